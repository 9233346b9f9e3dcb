"""KVCache: keys and values of the positions already seen, for fast autoregressive decoding.

Generating token t+1 needs the keys and values of positions 0..t. Recomputing them
every step costs O(t) projections per step; caching them costs one (B, H, T, head_dim)
write per step. The arrays are preallocated to ``max_len`` so appending never copies
what is already there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstack.tensor import Tensor, check_positive_int


class KVCache:
    """Preallocated ``keys`` and ``values`` (B, H, max_len, head_dim); ``length`` are filled."""

    def __init__(
        self,
        batch_size: int,
        num_heads: int,
        max_len: int,
        head_dim: int,
        dtype: Any = np.float32,
    ) -> None:
        self.batch_size = check_positive_int("KVCache", "batch_size", batch_size)
        self.num_heads = check_positive_int("KVCache", "num_heads", num_heads)
        self.max_len = check_positive_int("KVCache", "max_len", max_len)
        self.head_dim = check_positive_int("KVCache", "head_dim", head_dim)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"KVCache: dtype must be floating point, got {self.dtype}")
        shape = (self.batch_size, self.num_heads, self.max_len, self.head_dim)
        self.keys = np.zeros(shape, dtype=self.dtype)
        self.values = np.zeros(shape, dtype=self.dtype)
        self.length = 0

    def _check_new(self, name: str, array: Any) -> np.ndarray:
        """New keys or values as an array of shape (B, H, T, head_dim)."""
        data = array.data if isinstance(array, Tensor) else array
        if not isinstance(data, np.ndarray):
            raise TypeError(f"KVCache.append: {name} must be an array, got {type(array).__name__}")
        expected = (self.batch_size, self.num_heads, "T", self.head_dim)
        if data.ndim != 4 or data.shape[:2] + data.shape[3:] != expected[:2] + expected[3:]:
            raise ValueError(
                f"KVCache.append: {name} of shape {data.shape} does not fit a cache of "
                f"(batch_size, num_heads, T, head_dim) = {expected}"
            )
        return data

    def append(self, k: Any, v: Any) -> tuple[np.ndarray, np.ndarray]:
        """Write k, v (B, H, T, head_dim) at [length:length+T]; return views of all filled."""
        keys = self._check_new("k", k)
        values = self._check_new("v", v)
        if keys.shape != values.shape:
            raise ValueError(
                f"KVCache.append: k of shape {keys.shape} and v of shape {values.shape} differ"
            )
        end = self.length + keys.shape[2]
        if end > self.max_len:
            raise ValueError(
                f"KVCache.append: {keys.shape[2]} new positions after {self.length} cached "
                f"would make {end}, more than max_len {self.max_len}"
            )
        self.keys[:, :, self.length : end] = keys
        self.values[:, :, self.length : end] = values
        self.length = end
        return self.keys[:, :, :end], self.values[:, :, :end]

    def reset(self) -> None:
        """Forget every cached position (the arrays are kept for reuse)."""
        self.length = 0

    def __repr__(self) -> str:
        return (
            f"KVCache(batch_size={self.batch_size}, num_heads={self.num_heads}, "
            f"max_len={self.max_len}, head_dim={self.head_dim}, dtype={self.dtype}, "
            f"length={self.length})"
        )
