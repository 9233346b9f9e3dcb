"""Kernels of module 12: the attention op (``sdpa.py``) and multi-head self-attention with
its three projections fused (``fused_heads.py``); tests/test_kernels*.py check both
against the reference."""

from .fused_heads import self_attention_heads
from .sdpa import attention_forward_kernel, attention_grads, causal_blocks

__all__ = ["attention_forward_kernel", "attention_grads", "causal_blocks", "self_attention_heads"]
