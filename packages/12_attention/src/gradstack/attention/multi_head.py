"""MultiHeadAttention: project to heads, attend per head in one call, merge heads, project back."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstack.layers import Linear, Module
from gradstack.layers import dropout as dropout_fn
from gradstack.tensor import (
    Tensor,
    check_positive_int,
    check_probability,
    is_grad_enabled,
    kernels_enabled,
)

from .kv_cache import KVCache
from .masks import mask_array
from .scaled_dot_product import scaled_dot_product_attention


class _ForwardKernel:
    """The runner ``MultiHeadAttention.__call__`` tries first when kernels are on (set by
    ``kernels/fused_heads.py``): it returns the output, or None to leave the call to
    ``forward``."""

    runner: Any = None


def register_forward_kernel(runner: Any) -> None:
    """Install the kernel ``MultiHeadAttention.__call__`` tries before ``forward``."""
    if not callable(runner):
        raise TypeError("register_forward_kernel: runner must be a callable")
    _ForwardKernel.runner = runner


class MultiHeadAttention(Module):
    """Self-attention with ``num_heads`` heads of size ``embed_dim // num_heads``.

    ``q_proj``, ``k_proj``, ``v_proj`` and ``out_proj`` are Linear(embed_dim, embed_dim).
    ``dropout`` (a probability, stored as ``self.dropout``) is used twice in training
    mode, as in nanoGPT's attn_dropout and resid_dropout: on the attention
    probabilities (inside the attention op) and on the output of ``out_proj``. In eval mode
    neither drops anything.
    """

    def __init__(
        self, embed_dim: int, num_heads: int, bias: bool = True, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.embed_dim = check_positive_int("MultiHeadAttention", "embed_dim", embed_dim)
        self.num_heads = check_positive_int("MultiHeadAttention", "num_heads", num_heads)
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"MultiHeadAttention: embed_dim {self.embed_dim} is not divisible by "
                f"num_heads {self.num_heads}"
            )
        self.head_dim = self.embed_dim // self.num_heads
        self.q_proj = Linear(self.embed_dim, self.embed_dim, bias=bias)
        self.k_proj = Linear(self.embed_dim, self.embed_dim, bias=bias)
        self.v_proj = Linear(self.embed_dim, self.embed_dim, bias=bias)
        self.out_proj = Linear(self.embed_dim, self.embed_dim, bias=bias)
        self.dropout = check_probability("MultiHeadAttention", "dropout", dropout)

    def _split_heads(self, x: Tensor, batch: int, length: int) -> Tensor:
        """(B, T, C) -> (B, H, T, head_dim)."""
        # HINT: the C features of a position are H heads of hd features side by side, so a
        # HINT: reshape can split the last axis; attention then wants each head to be a batch
        # HINT: entry in front of the positions (test_forward_matches_numpy checks the layout).
        # BEGIN SOLUTION
        heads = x.reshape(
            batch, length, self.num_heads, self.head_dim
        )  # (B, T, C) -> (B, T, H, hd)
        return heads.transpose(1, 2)  # (B, T, H, hd) -> (B, H, T, hd)
        # END SOLUTION

    def _check_input(self, x: Any) -> tuple[int, int]:
        """x must be (B, T, embed_dim); return B and T."""
        if not isinstance(x, Tensor):
            raise TypeError(f"MultiHeadAttention: input must be a Tensor, got {type(x).__name__}")
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(
                f"MultiHeadAttention: input must be (B, T, {self.embed_dim}), got shape {x.shape}"
            )
        return x.shape[0], x.shape[1]

    def _check_cache(self, cache: Any, x: Tensor, mask: Any) -> KVCache:
        """Before anything is written: inference mode, matching sizes and dtype, room, mask."""
        if not isinstance(cache, KVCache):
            raise TypeError(
                f"MultiHeadAttention: cache must be a KVCache, got {type(cache).__name__}"
            )
        if is_grad_enabled():
            raise RuntimeError(
                "MultiHeadAttention: cache= is for inference; call it inside "
                "`with no_grad():` (cached keys and values carry no gradient)"
            )
        wanted = (x.shape[0], self.num_heads, self.head_dim, x.dtype)
        have = (cache.batch_size, cache.num_heads, cache.head_dim, np.dtype(cache.dtype))
        if have != wanted:  # dtypes compared as objects: str(dtype) costs ~7 us per call
            raise ValueError(
                f"MultiHeadAttention: cache (batch_size, num_heads, head_dim, dtype) = {have} "
                f"does not match this layer and input: {wanted}"
            )
        total = cache.length + x.shape[1]
        if total > cache.max_len:
            raise ValueError(
                f"MultiHeadAttention: {x.shape[1]} new positions after {cache.length} cached "
                f"would make {total}, more than the cache's max_len {cache.max_len}"
            )
        if mask is not None:
            scores = (x.shape[0], self.num_heads, x.shape[1], total)
            mask_array("MultiHeadAttention", mask, scores)
        return cache

    def __call__(
        self, x: Tensor, mask: Any = None, is_causal: bool = False, cache: KVCache | None = None
    ) -> Tensor:
        """``forward``, or the fused kernel (q, k, v in one product) when kernels are on."""
        runner = _ForwardKernel.runner
        if runner is not None and kernels_enabled():
            out = runner(self, x, mask, is_causal, cache)
            if out is not None:
                return out
        return self.forward(x, mask, is_causal, cache)

    def forward(
        self,
        x: Tensor,
        mask: Any = None,
        is_causal: bool = False,
        cache: KVCache | None = None,
    ) -> Tensor:
        """Attend over x (B, T, embed_dim) -> (B, T, embed_dim).

        ``mask`` (bool, True = may attend) broadcasts to (B, H, T, Lk). With ``cache``
        (inference only) the new keys and values are appended to it and the T new
        queries attend causally to every cached position: query i sees cached keys
        j <= length_before + i, whatever ``is_causal`` says.
        """
        batch, length = self._check_input(x)
        if cache is not None:
            self._check_cache(cache, x, mask)
        q = self._split_heads(self.q_proj(x), batch, length)  # (B, H, T, hd)
        k = self._split_heads(self.k_proj(x), batch, length)  # (B, H, T, hd)
        v = self._split_heads(self.v_proj(x), batch, length)  # (B, H, T, hd)
        if cache is not None:
            keys, values = cache.append(k.data, v.data)  # (B, H, L, hd)
            k = Tensor(keys, dtype=keys.dtype)
            v = Tensor(values, dtype=values.dtype)
            is_causal = True
        dropout_p = self.dropout if self.training else 0.0
        y = scaled_dot_product_attention(
            q, k, v, mask=mask, is_causal=is_causal, dropout_p=dropout_p
        )  # (B, H, T, hd)
        # HINT: undo _split_heads in the reverse order, so each position gets its H heads'
        # HINT: outputs back side by side as C features.
        # BEGIN SOLUTION
        y = y.transpose(1, 2)  # (B, H, T, hd) -> (B, T, H, hd)
        y = y.reshape(batch, length, self.embed_dim)  # (B, T, H, hd) -> (B, T, C)
        # END SOLUTION
        return dropout_fn(self.out_proj(y), self.dropout, self.training)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"
