"""gradstack.transformer: LayerNorm, MLP, TransformerBlock and GPT (module 13)."""

from gradstack.tensor import load_kernels

from .__about__ import __version__
from .block import TransformerBlock
from .config import GPTConfig
from .gpt import GPT
from .layer_norm import layer_norm
from .mlp import MLP
from .normalization import LayerNorm

__all__ = ["GPT", "MLP", "GPTConfig", "LayerNorm", "TransformerBlock", "__version__", "layer_norm"]

load_kernels(__name__)  # kernels/: layer norm on rows and cached decoding on arrays
