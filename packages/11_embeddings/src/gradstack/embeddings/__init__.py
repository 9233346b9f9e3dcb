"""gradstack.embeddings: token embeddings and positional encodings (module 11)."""

from gradstack.tensor import load_kernels

from .__about__ import __version__
from .embedding import Embedding
from .lookup import embedding
from .positional import PositionalEncoding, SinusoidalPositionalEncoding, sinusoidal_table

__all__ = [
    "Embedding",
    "PositionalEncoding",
    "SinusoidalPositionalEncoding",
    "__version__",
    "embedding",
    "sinusoidal_table",
]

load_kernels(__name__)  # gradstack.embeddings.kernels (flat scatter-add), when this copy has one
