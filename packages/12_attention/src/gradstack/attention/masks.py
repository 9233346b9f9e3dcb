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


@lru_cache(maxsize=64)
def causal_blocked(q_len: int, k_len: int) -> np.ndarray:
    """Read-only bool (Lq, Lk), True where query i may NOT attend key j > i + Lk - Lq."""
    blocked = ~np.tri(q_len, k_len, k=k_len - q_len, dtype=bool)
    blocked.flags.writeable = False
    return blocked


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


def blocked_positions(
    op: str, mask: Any, is_causal: bool, scores_shape: tuple[int, ...]
) -> np.ndarray | None:
    """Bool array broadcastable to the scores, True where attention is forbidden; or None."""
    if not isinstance(is_causal, (bool, np.bool_)):
        raise TypeError(f"{op}: is_causal must be True or False, got {is_causal!r}")
    causal = causal_blocked(*scores_shape[-2:]) if is_causal else None
    if mask is None:
        return causal
    blocked = ~mask_array(op, mask, scores_shape)
    return blocked if causal is None else blocked | causal
