"""Creating tensors: from data, filled, random, ranges."""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import parse_shape
from .convert import DEFAULT_FLOAT
from .rng import default_generator
from .tensor import Tensor


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (float32 unless ``dtype`` says otherwise)."""
    source = data.data if isinstance(data, Tensor) else data
    return Tensor(np.array(source, copy=True), requires_grad=requires_grad, dtype=dtype)


def _float_dtype(op: str, dtype: Any) -> np.dtype:
    """Filled and random tensors are float32 unless asked otherwise."""
    return DEFAULT_FLOAT if dtype is None else np.dtype(dtype)


def zeros(*shape: int, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    array = np.zeros(parse_shape("zeros", shape), dtype=_float_dtype("zeros", dtype))
    return Tensor(array, requires_grad=requires_grad)


def ones(*shape: int, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A tensor of ones."""
    array = np.ones(parse_shape("ones", shape), dtype=_float_dtype("ones", dtype))
    return Tensor(array, requires_grad=requires_grad)


def zeros_like(other: Tensor, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Zeros with the shape (and dtype) of ``other``."""
    return Tensor(np.zeros_like(other.data, dtype=dtype), requires_grad=requires_grad)


def ones_like(other: Tensor, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Ones with the shape (and dtype) of ``other``."""
    return Tensor(np.ones_like(other.data, dtype=dtype), requires_grad=requires_grad)


def randn(*shape: int, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Standard normal samples from the generator seeded by ``manual_seed``."""
    dims = parse_shape("randn", shape)
    array = default_generator().standard_normal(dims, dtype=np.float32)
    return Tensor(array, requires_grad=requires_grad, dtype=dtype)


def rand(*shape: int, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Uniform samples in [0, 1) from the generator seeded by ``manual_seed``."""
    dims = parse_shape("rand", shape)
    array = default_generator().random(dims, dtype=np.float32)
    return Tensor(array, requires_grad=requires_grad, dtype=dtype)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values in [start, end): integers stay int64, floats are float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    values = np.arange(start, end, step)
    return Tensor(values, dtype=dtype)
