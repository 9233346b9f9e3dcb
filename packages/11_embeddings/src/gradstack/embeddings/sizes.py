"""The input check shared by the embedding modules (sizes use gradstack.tensor's check)."""

from __future__ import annotations

import numpy as np

from gradstack.tensor import Tensor


def check_sequence(owner: str, x: Tensor, max_seq_len: int, embed_dim: int, start: int = 0) -> int:
    """Check x is (..., T, embed_dim) at positions start .. start + T - 1 < max_seq_len;
    return T."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{owner}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"{owner}: input must be (..., T, {embed_dim}), got shape {x.shape}")
    if x.shape[-1] != embed_dim:
        raise ValueError(
            f"{owner}: input of shape {x.shape} has last dim {x.shape[-1]}, "
            f"but embed_dim is {embed_dim}"
        )
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ValueError(f"{owner}: start must be a non-negative int, got {start!r}")
    length = x.shape[-2]
    if start + length > max_seq_len:
        where = f"positions {start}..{start + length - 1}" if start else f"sequence length {length}"
        raise ValueError(
            f"{owner}: {where} (input shape {x.shape}) exceeds max_seq_len {max_seq_len}"
        )
    return length
