"""gradstack.transformer: LayerNorm, MLP, TransformerBlock and GPT (module 13)."""

from .__about__ import __version__
from .layer_norm import layer_norm
from .mlp import MLP
from .normalization import LayerNorm

__all__ = ["MLP", "LayerNorm", "__version__", "layer_norm"]
