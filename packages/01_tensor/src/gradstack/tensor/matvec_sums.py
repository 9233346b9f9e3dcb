"""Sums of float arrays as matrix-vector products with a vector of ones.

NumPy reduces short rows slowly: summing a (512, 64) float32 array over its last
axis makes one small reduction per row. The same sums as one BLAS matrix-vector
product are several times faster (the README has the figures), which matters in the
kernels that reduce every training step (layer norm, bias gradients, the attention
softmax, cross-entropy). The order of additions differs from ``np.sum``'s, so results
agree to rounding, not bit for bit. References use ``np.sum``; only kernels use these.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=256)
def _filled(length: int, value: float, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ``length`` copies of ``value`` (kept: it is reused every step)."""
    vector = np.full(length, value, dtype=dtype)
    vector.flags.writeable = False
    return vector


def sum_last(x: np.ndarray) -> np.ndarray:
    """Sum over the last axis: (..., n) -> (...)."""
    return x @ _filled(x.shape[-1], 1.0, x.dtype)


def mean_last(x: np.ndarray) -> np.ndarray:
    """Mean over the last axis: (..., n) -> (...); n must be positive."""
    length = x.shape[-1]
    return x @ _filled(length, 1.0 / length, x.dtype)


def sum_rows(x: np.ndarray) -> np.ndarray:
    """Sum the rows of each matrix, over axis -2: (..., m, n) -> (..., n)."""
    return _filled(x.shape[-2], 1.0, x.dtype) @ x
