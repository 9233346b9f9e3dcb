"""Module-level ops on several tensors: where, cat, stack, split."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .checks import normalize_dim
from .ops import indexing, joining
from .tensor import Tensor, _promote, apply, as_tensor


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise choice: ``a`` where ``condition`` is True, else ``b`` (broadcast)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    like = a if isinstance(a, Tensor) else b
    first, second = _promote(as_tensor(a, like, "where"), as_tensor(b, like, "where"))
    return apply(indexing.where_op, first, second, condition=cond)


def _tensor_list(op: str, tensors: Sequence[Tensor]) -> tuple[Tensor, ...]:
    """Check that ``tensors`` is a non-empty sequence of Tensors; mixed kinds compute in float."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expects a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expects at least one tensor, got an empty sequence")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: element {i} is a {type(t).__name__}, not a Tensor")
    floats = [t.dtype for t in tensors if t.dtype.kind == "f"]
    if floats and len(floats) < len(tensors):
        target = np.result_type(*floats)
        return tuple(t if t.dtype.kind == "f" else t.astype(target) for t in tensors)
    return tuple(tensors)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate tensors along an existing dim."""
    items = _tensor_list("cat", tensors)
    axis = normalize_dim("cat", dim, items[0].ndim, items[0].shape)
    return apply(joining.cat_op, *items, dim=axis)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack same-shaped tensors along a new dim."""
    items = _tensor_list("stack", tensors)
    axis = normalize_dim("stack", dim, items[0].ndim, items[0].shape, extra=1)
    return apply(joining.stack_op, *items, dim=axis)


def _split_sizes(op: str, split_size_or_sections: Any, length: int, where: str) -> list[int]:
    """PyTorch's meaning: an int is a chunk size (the last chunk may be smaller), a list
    gives every chunk's size and must add up to the length of the dim."""
    spec = split_size_or_sections
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        size = int(spec)
        if size <= 0:
            raise ValueError(f"{op}: split size must be positive, got {size}")
        return [min(size, length - start) for start in range(0, length, size)] or [0]
    if not isinstance(spec, (list, tuple)) or any(
        isinstance(s, bool) or not isinstance(s, (int, np.integer)) for s in spec
    ):
        raise TypeError(
            f"{op}: split_size_or_sections must be an int or a list of ints, got {spec!r}"
        )
    sizes = [int(s) for s in spec]
    if any(s < 0 for s in sizes) or sum(sizes) != length:
        raise ValueError(
            f"{op}: sections {sizes} must be non-negative and sum to {length}, the size of {where}"
        )
    return sizes


def split(
    tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Cut along ``dim`` into chunks of one size (the last may be smaller) or given sizes.

    Each piece is a view (a basic-slice ``getitem``), so nothing is copied.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"split: expects a Tensor, got {type(tensor).__name__}")
    axis = normalize_dim("split", dim, tensor.ndim, tensor.shape)
    where = f"dim {dim} of shape {tensor.shape}"
    sizes = _split_sizes("split", split_size_or_sections, tensor.shape[axis], where)
    pieces = []
    start = 0
    lead = (slice(None),) * axis
    for size in sizes:
        pieces.append(tensor[lead + (slice(start, start + size),)])
        start += size
    return tuple(pieces)
