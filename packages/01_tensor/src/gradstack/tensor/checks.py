"""Argument checks shared by the ops: each error names the op and the offending values."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def normalize_dim(op: str, dim: int, ndim: int, shape: tuple[int, ...], extra: int = 0) -> int:
    """Turn a possibly negative ``dim`` into an index in ``[0, ndim + extra)``."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    size = ndim + extra
    if not -size <= dim < size:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a tensor of shape {shape} "
            f"(expected a dim in [{-size}, {size - 1}])"
        )
    return int(dim) % size if size else 0


def normalize_dims(
    op: str, dim: int | Iterable[int] | None, ndim: int, shape: tuple[int, ...]
) -> tuple[int, ...] | None:
    """Normalize a reduction's ``dim`` (None, an int, or several ints) to sorted axes."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    axes = tuple(sorted(normalize_dim(op, d, ndim, shape) for d in dims))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {dim} repeats an axis of shape {shape}")
    return axes


def broadcast_error(op: str, *arrays: np.ndarray) -> ValueError:
    """The error for operands NumPy cannot broadcast together."""
    shapes = " and ".join(str(a.shape) for a in arrays)
    return ValueError(f"{op}: shapes {shapes} cannot be broadcast together")


def parse_shape(op: str, shape: tuple) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike; every size must be an int."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise TypeError(f"{op}: sizes must be ints, got {shape}")
    return tuple(int(s) for s in shape)
