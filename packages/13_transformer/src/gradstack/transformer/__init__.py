"""gradstack.transformer: LayerNorm, MLP, TransformerBlock and GPT (module 13)."""

from .__about__ import __version__
from .block import TransformerBlock
from .config import GPTConfig
from .gpt import GPT
from .layer_norm import layer_norm
from .mlp import MLP
from .normalization import LayerNorm

__all__ = ["GPT", "MLP", "GPTConfig", "LayerNorm", "TransformerBlock", "__version__", "layer_norm"]
