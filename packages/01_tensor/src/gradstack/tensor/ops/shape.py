"""Ops that rearrange without computing: reshape, transpose, permute, (un)squeeze, expand.

Each returns a NumPy view where NumPy gives one (reshape of a contiguous array,
transpose, permute, (un)squeeze, expand), so no data is copied.
"""

from __future__ import annotations

import numpy as np

from ..registry import register_op


@register_op("reshape")
def reshape_op(a: np.ndarray, *, shape: tuple[int, ...]) -> tuple[np.ndarray, None]:
    """Same elements, new shape (one size may be -1)."""
    try:
        # HINT: return a view whenever NumPy can (no copy); a bad shape's ValueError is reworded
        # HINT: below.
        # BEGIN SOLUTION
        return a.reshape(shape), None
        # END SOLUTION
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape {a.shape} ({a.size} elements) into {shape}"
        ) from None


@register_op("transpose")
def transpose_op(a: np.ndarray, *, dim0: int, dim1: int) -> tuple[np.ndarray, None]:
    """Swap two dims (already normalized by the caller)."""
    # HINT: a view, not a copy: writing to the result writes to the input.
    # BEGIN SOLUTION
    return a.swapaxes(dim0, dim1), None
    # END SOLUTION


@register_op("permute")
def permute_op(a: np.ndarray, *, dims: tuple[int, ...]) -> tuple[np.ndarray, None]:
    """Reorder all dims (``dims`` is a permutation, checked by the caller)."""
    # HINT: a view, not a copy; dims is already a checked permutation.
    # BEGIN SOLUTION
    return a.transpose(dims), None
    # END SOLUTION


@register_op("unsqueeze")
def unsqueeze_op(a: np.ndarray, *, dim: int) -> tuple[np.ndarray, None]:
    """Insert a dim of size 1 at ``dim`` (a ``None`` index: always a view)."""
    # HINT: always a view, also for dim == a.ndim (a new last dim).
    # BEGIN SOLUTION
    return a[(slice(None),) * dim + (None,)], None
    # END SOLUTION


@register_op("squeeze")
def squeeze_op(a: np.ndarray, *, dims: tuple[int, ...]) -> tuple[np.ndarray, None]:
    """Drop the given dims, each of size 1 (chosen by the caller)."""
    # HINT: with no dim to drop, still return a new array object (a view of a), never a itself.
    # BEGIN SOLUTION
    return a.squeeze(axis=dims) if dims else a.view(), None
    # END SOLUTION


@register_op("expand")
def expand_op(a: np.ndarray, *, shape: tuple[int, ...]) -> tuple[np.ndarray, None]:
    """Broadcast to ``shape`` as a read-only view (no copy)."""
    try:
        # HINT: no copy: a read-only broadcast view; an impossible shape's ValueError is reworded
        # HINT: below.
        # BEGIN SOLUTION
        return np.broadcast_to(a, shape), None
        # END SOLUTION
    except ValueError:
        raise ValueError(f"expand: cannot expand shape {a.shape} to {shape}") from None
