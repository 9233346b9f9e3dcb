"""Reductions over one, several or all dims: sum, mean, max, var."""

from __future__ import annotations

import numpy as np

from ..registry import register_op


@register_op("sum")
def sum_(a: np.ndarray, *, dim: tuple[int, ...] | None, keepdim: bool) -> tuple[np.ndarray, None]:
    """Sum over ``dim`` (all dims when None); float32 stays float32."""
    return np.sum(a, axis=dim, keepdims=keepdim), None


@register_op("mean")
def mean(a: np.ndarray, *, dim: tuple[int, ...] | None, keepdim: bool) -> tuple[np.ndarray, None]:
    """Mean over ``dim`` (all dims when None); integer input gives float32."""
    if a.size == 0:
        raise ValueError(f"mean: cannot take the mean of an empty tensor of shape {a.shape}")
    dtype = a.dtype if a.dtype.kind == "f" else np.float32
    return np.mean(a, axis=dim, keepdims=keepdim, dtype=dtype), None


@register_op("max")
def max_(a: np.ndarray, *, dim: tuple[int, ...] | None, keepdim: bool) -> tuple[np.ndarray, None]:
    """Largest value over ``dim``; ties share the gradient equally (like ``torch.amax``)."""
    if a.size == 0:
        raise ValueError(f"max: cannot take the max of an empty tensor of shape {a.shape}")
    return np.max(a, axis=dim, keepdims=keepdim), None


@register_op("var")
def var(
    a: np.ndarray, *, dim: tuple[int, ...] | None, keepdim: bool, correction: int
) -> tuple[np.ndarray, np.ndarray]:
    """Variance with ``correction`` (1: unbiased, PyTorch's default; 0: biased).

    Saves the centred input, which the gradient ``2 (a - mean) / (N - correction)`` uses.
    """
    count = a.size if dim is None else int(np.prod([a.shape[d] for d in dim]))
    if count - correction <= 0:
        raise ValueError(
            f"var: {count} element(s) over dim {dim} of shape {a.shape} with correction "
            f"{correction}: need more than {correction}"
        )
    centred = a - np.mean(a, axis=dim, keepdims=True)
    out = np.sum(centred * centred, axis=dim, keepdims=keepdim) / np.asarray(
        count - correction, dtype=a.dtype
    )
    return out.astype(a.dtype, copy=False), centred
