"""Kernels of module 12: the attention op (``sdpa.py``), multi-head self-attention with
its three projections fused (``fused_heads.py``), and the same with a layer norm folded
into them (``normed_heads.py``, a node the transformer's block kernel applies by name);
tests/test_kernels*.py check them against the reference."""

from . import normed_heads
from .fused_heads import attend_stacked, self_attention_heads, stacked_grads
from .sdpa import attention_forward_kernel, attention_grads, causal_blocks

__all__ = [
    "attend_stacked",
    "attention_forward_kernel",
    "attention_grads",
    "causal_blocks",
    "normed_heads",
    "self_attention_heads",
    "stacked_grads",
]
