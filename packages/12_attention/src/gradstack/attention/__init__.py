"""gradstack.attention: scaled dot-product attention, multi-head attention, KV cache (12)."""

from gradstack.tensor import load_kernels

from .__about__ import __version__
from .kv_cache import KVCache
from .masks import causal_mask
from .multi_head import MultiHeadAttention
from .scaled_dot_product import scaled_dot_product_attention

__all__ = [
    "KVCache",
    "MultiHeadAttention",
    "__version__",
    "causal_mask",
    "scaled_dot_product_attention",
]

load_kernels(__name__)  # kernels.py: the tuned attention, when this copy has it
