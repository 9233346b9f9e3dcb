"""Attention masks: the causal pattern and the check of user masks.

Masks are boolean with True = may attend, broadcastable to the (..., Lq, Lk) scores.
Causal masks for Lq != Lk are aligned to the bottom-right: query i attends keys
j <= i + (Lk - Lq), so the last query sees every key. That is what decoding with a KV
cache needs (the T new queries are the last T positions of the sequence). PyTorch's
``is_causal`` aligns to the top-left instead; for Lq == Lk the two agree.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from gradstack.tensor import Tensor, check_positive_int


def causal_mask(seq_len: int) -> Tensor:
    """Boolean (seq_len, seq_len) Tensor, True on and below the diagonal (may attend)."""
    seq_len = check_positive_int("causal_mask", "seq_len", seq_len)
    return Tensor(np.tri(seq_len, dtype=bool))


def causal_allowed(q_len: int, k_len: int) -> np.ndarray:
    """Bool (Lq, Lk), True where query i may attend key j <= i + Lk - Lq (bottom-right)."""
    return np.tri(q_len, k_len, k=k_len - q_len, dtype=bool)


@lru_cache(maxsize=16)  # (L, L) arrays: a few shapes recur (training T, decoding steps)
def causal_bias(q_len: int, k_len: int, dtype: np.dtype) -> np.ndarray:
    """Read-only (Lq, Lk) bias: 0 where causal attention is allowed, -inf where it is not."""
    bias = bias_from_allowed(causal_allowed(q_len, k_len), dtype)
    bias.flags.writeable = False
    return bias


def bias_from_allowed(allowed: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """An additive bias in ``dtype`` from a boolean mask: 0 where allowed, -inf where not."""
    return np.where(allowed, dtype.type(0.0), dtype.type(-np.inf))


def mask_array(op: str, mask: Any, scores_shape: tuple[int, ...]) -> np.ndarray:
    """The user's mask as a bool array that broadcasts to ``scores_shape`` (never beyond)."""
    array = mask.data if isinstance(mask, Tensor) else mask
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{op}: mask must be a bool Tensor or array, got {type(mask).__name__}")
    if array.dtype != np.bool_:
        raise TypeError(f"{op}: mask must be boolean (True = may attend), got dtype {array.dtype}")
    try:
        shape = np.broadcast_shapes(array.shape, scores_shape)
    except ValueError:
        shape = None
    if shape != scores_shape:
        raise ValueError(
            f"{op}: mask of shape {array.shape} does not broadcast to the attention scores "
            f"of shape {scores_shape} (..., Lq, Lk)"
        )
    return array


def attention_bias(
    mask: np.ndarray | None, is_causal: bool, q_len: int, k_len: int, dtype: np.dtype
) -> np.ndarray | None:
    """What the scores (..., Lq, Lk) get added: 0 where a query may attend, -inf where not.

    ``mask`` is the checked boolean mask (True = may attend, broadcastable to the scores)
    or None; ``is_causal`` adds the bottom-right causal pattern. None when nothing is
    blocked (no mask, and not causal or a single query, which may see every key).
    Adding 0 leaves the allowed scores exact.
    """
    causal = is_causal and q_len > 1
    if mask is None:
        return causal_bias(q_len, k_len, dtype) if causal else None
    allowed = mask & causal_allowed(q_len, k_len) if causal else mask
    return bias_from_allowed(allowed, dtype)
