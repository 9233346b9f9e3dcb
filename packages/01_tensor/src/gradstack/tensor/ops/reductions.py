"""Reductions over one, several or all dims: sum, mean, max, var.

``dim`` arrives normalized by the caller: None (all dims) or a sorted tuple of
non-negative axes.
"""

from __future__ import annotations

import numpy as np

from ..registry import register_op


def _count(a: np.ndarray, dim: tuple[int, ...] | None) -> int:
    """How many elements each output element reduces over."""
    if dim is None:
        return a.size
    count = 1
    for d in dim:
        count *= a.shape[d]
    return count


@register_op("sum")
def sum_op(a: np.ndarray, *, dim: tuple[int, ...] | None, keepdim: bool) -> tuple[np.ndarray, None]:
    """Sum over ``dim`` (all dims when None); float32 stays float32."""
    # HINT: dim is None or a tuple of axes, which NumPy takes as it is; float32 must stay float32.
    # BEGIN SOLUTION
    return a.sum(axis=dim, keepdims=keepdim), None
    # END SOLUTION


@register_op("mean")
def mean_op(
    a: np.ndarray, *, dim: tuple[int, ...] | None, keepdim: bool
) -> tuple[np.ndarray, None]:
    """Mean over ``dim`` (all dims when None); integer input gives float32."""
    if a.size == 0 and _count(a, dim) == 0:
        raise ValueError(f"mean: cannot take the mean over no elements (dim {dim} of {a.shape})")
    # HINT: for integer input ask NumPy for a float32 mean (its default is float64); float input
    # HINT: keeps its dtype.
    # BEGIN SOLUTION
    dtype = None if a.dtype.kind == "f" else np.float32
    return a.mean(axis=dim, keepdims=keepdim, dtype=dtype), None
    # END SOLUTION


@register_op("max")
def max_op(a: np.ndarray, *, dim: tuple[int, ...] | None, keepdim: bool) -> tuple[np.ndarray, None]:
    """Largest value over ``dim``; ties share the gradient equally (like ``torch.amax``)."""
    try:
        # HINT: an empty reduction raises ValueError in NumPy: the except below rewords it.
        # BEGIN SOLUTION
        return a.max(axis=dim, keepdims=keepdim), None
        # END SOLUTION
    except ValueError:
        raise ValueError(
            f"max: cannot take the max over no elements (dim {dim} of {a.shape})"
        ) from None


@register_op("var")
def var_op(
    a: np.ndarray, *, dim: tuple[int, ...] | None, keepdim: bool, correction: int
) -> tuple[np.ndarray, np.ndarray]:
    """Variance with ``correction`` (1: unbiased, PyTorch's default; 0: biased).

    Integer input computes in float32. Saves the centred input, which the gradient
    ``2 (a - mean) / (N - correction)`` uses.
    """
    count = _count(a, dim)
    if count - correction <= 0:
        raise ValueError(
            f"var: {count} element(s) over dim {dim} of shape {a.shape} with correction "
            f"{correction}: need more than {correction}"
        )
    # HINT: centre first, var = sum((a - mean)**2) / (N - correction), never E[a**2] - E[a]**2,
    # HINT: which cancels catastrophically when the mean is large. Integer input computes in
    # HINT: float32; save the centred array for the rule.
    # BEGIN SOLUTION
    if a.dtype.kind != "f":
        a = a.astype(np.float32)
    centred = a - a.mean(axis=dim, keepdims=True)
    out = np.sum(centred * centred, axis=dim, keepdims=keepdim) / np.asarray(
        count - correction, dtype=a.dtype
    )
    return out.astype(a.dtype, copy=False), centred
    # END SOLUTION
