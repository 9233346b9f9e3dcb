"""Reducing per-element losses to what the caller asked for: mean, sum or none."""

from __future__ import annotations

import numpy as np

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(op: str, reduction: object) -> str:
    """``reduction`` must be one of ``"mean"``, ``"sum"``, ``"none"`` (PyTorch's names)."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def reduce_losses(losses: np.ndarray, reduction: str, count: int | None = None) -> np.ndarray:
    """Sum, average over ``count`` (default: every element), or keep the losses.

    A mean over nothing is NaN, as in PyTorch, returned without a 0/0 warning.
    Results are 0-d ndarrays of the losses' dtype, never NumPy scalars.
    """
    if reduction == "none":
        return losses
    # HINT: NumPy reductions return NumPy scalars, and a float32 sum divided by a Python int stays
    # HINT: float32 but 0 / 0 warns: handle count == 0 before dividing, and wrap every result as a
    # HINT: 0-d array of the losses' dtype.
    # BEGIN SOLUTION
    total = np.sum(losses)
    if reduction == "sum":
        return np.asarray(total, dtype=losses.dtype)
    count = losses.size if count is None else count
    if count == 0:
        return np.asarray(np.nan, dtype=losses.dtype)
    return np.asarray(total / count, dtype=losses.dtype)
    # END SOLUTION
