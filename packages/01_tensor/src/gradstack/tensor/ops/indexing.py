"""Selection ops: indexing, masked fill and where."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import broadcast_error
from ..registry import register_op


@register_op("getitem")
def getitem_op(a: np.ndarray, *, index: Any) -> tuple[np.ndarray, None]:
    """NumPy indexing: ints, slices, None, Ellipsis, integer arrays and boolean masks."""
    try:
        # HINT: NumPy's own indexing accepts every index this op does (ints, slices, None, Ellipsis,
        # HINT: integer and boolean arrays); its IndexError is reworded below.
        # BEGIN SOLUTION
        return a[index], None
        # END SOLUTION
    except IndexError as error:
        raise IndexError(f"getitem: index {_describe(index)} on shape {a.shape}: {error}") from None


def _describe(index: Any) -> str:
    """A short, readable form of an index for error messages."""
    if isinstance(index, np.ndarray):
        return f"array(shape={index.shape}, dtype={index.dtype})"
    if isinstance(index, tuple):
        return "(" + ", ".join(_describe(i) for i in index) + ")"
    return repr(index)


@register_op("masked_fill")
def masked_fill_op(a: np.ndarray, *, mask: np.ndarray, value: float) -> tuple[np.ndarray, None]:
    """Put ``value`` where ``mask`` is True; the mask broadcasts to ``a``, never the reverse."""
    try:
        shape = np.broadcast_shapes(a.shape, mask.shape)
    except ValueError:
        raise broadcast_error("masked_fill", a, mask) from None
    if shape != a.shape:
        raise ValueError(
            f"masked_fill: mask of shape {mask.shape} would broadcast the tensor of shape "
            f"{a.shape} to {shape}; the mask must broadcast to the tensor's shape"
        )
    # HINT: a Python float value would promote a float32 tensor to float64: give the value a's
    # HINT: dtype. The mask is already checked to broadcast to a.
    # BEGIN SOLUTION
    return np.where(mask, np.asarray(value, dtype=a.dtype), a), None
    # END SOLUTION


@register_op("where")
def where_op(a: np.ndarray, b: np.ndarray, *, condition: np.ndarray) -> tuple[np.ndarray, None]:
    """``a`` where ``condition`` is True, else ``b``, all three broadcast together."""
    try:
        # HINT: condition, a and b broadcast together; the rule needs only the condition (an
        # HINT: attribute), so save nothing.
        # BEGIN SOLUTION
        return np.where(condition, a, b), None
        # END SOLUTION
    except ValueError:
        raise broadcast_error("where", condition, a, b) from None
