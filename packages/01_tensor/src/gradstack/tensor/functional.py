"""Module-level ops on several tensors: where, cat, stack, split."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .checks import normalize_dim
from .ops import indexing, joining
from .tensor import Tensor, apply, as_tensor


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise choice: ``a`` where ``condition`` is True, else ``b`` (broadcast)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    like = a if isinstance(a, Tensor) else b
    return apply(indexing.where, as_tensor(a, like), as_tensor(b, like), condition=cond)


def _tensor_list(op: str, tensors: Sequence[Tensor]) -> tuple[Tensor, ...]:
    """Check that ``tensors`` is a non-empty sequence of Tensors."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expects a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expects at least one tensor, got an empty sequence")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: element {i} is a {type(t).__name__}, not a Tensor")
    return tuple(tensors)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate tensors along an existing dim."""
    items = _tensor_list("cat", tensors)
    axis = normalize_dim("cat", dim, items[0].ndim, items[0].shape)
    return apply(joining.cat, *items, dim=axis)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack same-shaped tensors along a new dim."""
    items = _tensor_list("stack", tensors)
    axis = normalize_dim("stack", dim, items[0].ndim, items[0].shape, extra=1)
    return apply(joining.stack, *items, dim=axis)


def split(
    tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Cut along ``dim`` into chunks of one size (the last may be smaller) or given sizes."""
    axis = normalize_dim("split", dim, tensor.ndim, tensor.shape)
    length = tensor.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split size must be positive, got {size}")
        sizes = [min(size, length - start) for start in range(0, length, size)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != length:
            raise ValueError(
                f"split: sections {sizes} must be non-negative and sum to {length}, "
                f"the size of dim {dim} of shape {tensor.shape}"
            )
    pieces = []
    start = 0
    lead = (slice(None),) * axis
    for size in sizes:
        pieces.append(tensor[lead + (slice(start, start + size),)])
        start += size
    return tuple(pieces)
