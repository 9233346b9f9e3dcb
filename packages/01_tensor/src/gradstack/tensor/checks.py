"""Argument checks shared by the ops: each error names the op and the offending values.

``check_positive_int`` and ``check_probability`` are exported from ``gradstack.tensor`` as
the one validator of sizes and of drop probabilities for every later package.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def check_positive_int(owner: str, name: str, value: object) -> int:
    """A size (features, heads, a length) must be an int >= 1; returns it as an int.

    A bool is not a size; a non-int is a TypeError, an int below 1 a ValueError, each naming
    ``owner`` (the op or class) and the argument.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def check_probability(owner: str, name: str, value: object) -> float:
    """A drop probability must be a number in [0, 1) (1 would drop everything); returns a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: {name} must be in [0, 1), got {value!r}")
    return float(value)


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
    if isinstance(dim, (int, np.integer)):
        dims: tuple = (dim,)
    elif isinstance(dim, (tuple, list)):
        dims = tuple(dim)
    else:
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {type(dim).__name__}")
    axes = tuple(sorted(normalize_dim(op, d, ndim, shape) for d in dims))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {dim} repeats an axis of shape {shape}")
    return axes


def broadcast_error(op: str, *arrays: np.ndarray) -> ValueError:
    """The error for operands NumPy cannot broadcast together."""
    shapes = " and ".join(str(a.shape) for a in arrays)
    return ValueError(f"{op}: shapes {shapes} cannot be broadcast together")


def binary_error(op: str, a: np.ndarray, b: np.ndarray, error: Exception) -> Exception:
    """Explain why NumPy refused ``op(a, b)``: shapes that do not broadcast, or dtypes."""
    if isinstance(error, TypeError):
        return TypeError(f"{op}: not supported for dtypes {a.dtype} and {b.dtype}: {error}")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        return broadcast_error(op, a, b)
    return ValueError(f"{op}: {a.shape} and {b.shape} ({a.dtype}, {b.dtype}): {error}")


def parse_shape(op: str, shape: tuple) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike; every size must be an int."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for size in shape:
        if type(size) is not int:  # the common case, plain ints, returns below untouched
            break
    else:
        return shape
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise TypeError(f"{op}: sizes must be ints, got {shape}")
    return tuple(int(s) for s in shape)


def parse_size(op: str, shape: tuple) -> tuple[int, ...]:
    """Like ``parse_shape`` for a new tensor's size: every size must be non-negative."""
    sizes = parse_shape(op, shape)
    if any(s < 0 for s in sizes):
        raise ValueError(f"{op}: sizes must be non-negative, got {sizes}")
    return sizes
