"""Turning user data into arrays with gradstack's dtype rules.

Floating data becomes float32 unless a dtype is asked for; integer and bool data keep
their kind (indices, masks); anything else is a TypeError at the call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_FLOAT = np.dtype(np.float32)


def to_array(data: Any, dtype: Any = None, op: str = "Tensor") -> np.ndarray:
    """Convert ``data`` to an ndarray following the dtype rules (no copy when not needed)."""
    if dtype is not None:
        try:
            return np.asarray(data, dtype=np.dtype(dtype))
        except (TypeError, ValueError) as error:
            raise TypeError(f"{op}: cannot convert data to dtype {dtype}: {error}") from None
    try:
        array = np.asarray(data)
    except ValueError as error:
        raise ValueError(f"{op}: data is not rectangular: {error}") from None
    kind = array.dtype.kind
    if kind == "f":
        return array if array.dtype == DEFAULT_FLOAT else array.astype(DEFAULT_FLOAT)
    if kind in "iub":
        return array
    hint = "; to combine tensors use gradstack.tensor.stack or cat" if kind == "O" else ""
    raise TypeError(
        f"{op}: unsupported data of dtype {array.dtype} (expected numbers or booleans){hint}"
    )


def scalar_array(value: Any, like: np.ndarray) -> np.ndarray:
    """A Python scalar as a 0-d array that never upcasts ``like`` (float32 stays float32)."""
    if like.dtype.kind == "f":
        return np.asarray(value, dtype=like.dtype)
    if isinstance(value, float):
        return np.asarray(value, dtype=DEFAULT_FLOAT)
    return np.asarray(value)


def is_floating(array: np.ndarray) -> bool:
    """Whether an array can carry gradients."""
    return array.dtype.kind == "f"
