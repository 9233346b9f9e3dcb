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

from gradstack.tensor import Tensor


def causal_mask(seq_len: int) -> Tensor:
    """Boolean (seq_len, seq_len) Tensor, True on and below the diagonal (may attend)."""
    if isinstance(seq_len, bool) or not isinstance(seq_len, (int, np.integer)):
        raise TypeError(f"causal_mask: seq_len must be an int, got {type(seq_len).__name__}")
    if seq_len < 1:
        raise ValueError(f"causal_mask: seq_len must be positive, got {seq_len}")
    return Tensor(np.tri(int(seq_len), dtype=bool))


def causal_allowed(q_len: int, k_len: int) -> np.ndarray:
    """Bool (Lq, Lk), True where query i may attend key j <= i + Lk - Lq (bottom-right)."""
    return np.tri(q_len, k_len, k=k_len - q_len, dtype=bool)


@lru_cache(maxsize=16)  # (L, L) arrays: a few shapes recur (training T, decoding steps)
def causal_bias_t(q_len: int, k_len: int, dtype: np.dtype) -> np.ndarray:
    """Read-only keys-first (Lk, Lq) bias: 0 where causal attention is allowed, else -inf."""
    bias_t = _bias_t_from_allowed(causal_allowed(q_len, k_len), dtype)
    bias_t.flags.writeable = False
    return bias_t


def _bias_t_from_allowed(allowed: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """C-contiguous keys-first (..., Lk, Lq) bias in ``dtype`` from (..., Lq, Lk) ``allowed``.

    Contiguity matters: adding a transposed (F-ordered) bias to the scores was ~9x slower.
    """
    if allowed.ndim < 2:
        allowed = allowed.reshape((1,) * (2 - allowed.ndim) + allowed.shape)  # (Lk,) -> (1, Lk)
    allowed_t = np.ascontiguousarray(np.swapaxes(allowed, -1, -2))  # (..., Lq, Lk) -> (..., Lk, Lq)
    return np.where(allowed_t, dtype.type(0.0), dtype.type(-np.inf))


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
    op: str, mask: Any, is_causal: bool, scores_shape: tuple[int, ...], dtype: np.dtype
) -> np.ndarray | None:
    """What the scores get added: 0 where attention is allowed, -inf where not (or None).

    The bias is keys-first, (..., Lk, Lq), the layout of the fused op's scores. Adding
    a bias is cheaper than writing -inf through a boolean mask (one vectorized add
    instead of a masked copy), and adding 0 leaves the allowed scores exact.
    """
    if not isinstance(is_causal, (bool, np.bool_)):
        raise TypeError(f"{op}: is_causal must be True or False, got {is_causal!r}")
    q_len, k_len = scores_shape[-2:]
    if mask is None:
        if not is_causal or q_len == 1:  # one query (a decoding step) may see every key
            return None
        return causal_bias_t(q_len, k_len, dtype)
    allowed = mask_array(op, mask, scores_shape)
    if is_causal:
        allowed = allowed & causal_allowed(q_len, k_len)
    return _bias_t_from_allowed(allowed, dtype)
