"""Creating tensors: from data, filled, random, ranges."""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import parse_size
from .convert import DEFAULT_FLOAT
from .rng import default_generator
from .tensor import Tensor


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (float32 unless ``dtype`` says otherwise)."""
    source = data.data if isinstance(data, Tensor) else data
    try:
        copied = np.array(source, copy=True)
    except ValueError as error:
        raise ValueError(f"tensor: data is not rectangular: {error}") from None
    return Tensor(copied, requires_grad=requires_grad, dtype=dtype)


def _dtype(op: str, dtype: Any, floating: bool = False) -> np.dtype:
    """The dtype of a new tensor: float32 unless asked; random ones must be floating."""
    if dtype is None:
        return DEFAULT_FLOAT
    try:
        result = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"{op}: {dtype!r} is not a dtype: {error}") from None
    if floating and result.kind != "f":
        raise TypeError(f"{op}: dtype must be floating, got {result}")
    return result


def zeros(*shape: int, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    kind = _dtype("zeros", dtype)
    return Tensor(np.zeros(parse_size("zeros", shape), dtype=kind), requires_grad, kind)


def ones(*shape: int, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A tensor of ones."""
    kind = _dtype("ones", dtype)
    return Tensor(np.ones(parse_size("ones", shape), dtype=kind), requires_grad, kind)


def _like(op: str, other: Any, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype for a ``*_like`` function (``other``'s dtype unless one is given)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: expects a Tensor, got {type(other).__name__}")
    return other.shape, other.dtype if dtype is None else _dtype(op, dtype)


def zeros_like(other: Tensor, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Zeros with the shape (and dtype) of ``other``."""
    shape, kind = _like("zeros_like", other, dtype)
    return Tensor(np.zeros(shape, dtype=kind), requires_grad, kind)


def ones_like(other: Tensor, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Ones with the shape (and dtype) of ``other``."""
    shape, kind = _like("ones_like", other, dtype)
    return Tensor(np.ones(shape, dtype=kind), requires_grad, kind)


def randn(*shape: int, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Standard normal samples from the generator seeded by ``manual_seed``."""
    dims = parse_size("randn", shape)
    kind = _dtype("randn", dtype, floating=True)
    array = default_generator().standard_normal(dims, dtype=np.float32)
    return Tensor(array, requires_grad=requires_grad, dtype=kind)


def rand(*shape: int, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Uniform samples in [0, 1) from the generator seeded by ``manual_seed``."""
    dims = parse_size("rand", shape)
    kind = _dtype("rand", dtype, floating=True)
    array = default_generator().random(dims, dtype=np.float32)
    return Tensor(array, requires_grad=requires_grad, dtype=kind)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Evenly spaced values in [start, end): integers stay int64, floats are float32."""
    if end is None:
        start, end = 0, start
    for name, value in (("start", start), ("end", end), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"arange: {name} must be a number, got {type(value).__name__}")
    if step == 0:
        raise ValueError("arange: step must not be zero")
    values = np.arange(start, end, step)
    if values.dtype.kind in "iu":
        values = values.astype(np.int64, copy=False)
    return Tensor(values, requires_grad=requires_grad, dtype=dtype)
