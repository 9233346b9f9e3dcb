"""Ops that join several tensors into one: cat and stack."""

from __future__ import annotations

import numpy as np

from ..registry import register_op


def _check_shapes(op: str, arrays: tuple[np.ndarray, ...], dim: int, same_size: bool) -> None:
    """All shapes must agree (except along ``dim`` for cat); say which one differs."""
    first = arrays[0].shape
    for i, array in enumerate(arrays[1:], start=1):
        other = array.shape
        if len(other) != len(first):
            raise ValueError(f"{op}: tensor 0 has shape {first} but tensor {i} has shape {other}")
        for d, (x, y) in enumerate(zip(first, other)):
            if x != y and (same_size or d != dim):
                raise ValueError(
                    f"{op}: tensor 0 has shape {first} but tensor {i} has shape {other} "
                    f"(they differ in dim {d})"
                )


@register_op("cat")
def cat_op(*arrays: np.ndarray, dim: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Concatenate along an existing dim; saves the sizes to split the gradient back."""
    _check_shapes("cat", arrays, dim, same_size=False)
    # HINT: the rule splits the gradient back at the inputs' boundaries: save what it needs to find
    # HINT: them.
    # BEGIN SOLUTION
    return np.concatenate(arrays, axis=dim), tuple(a.shape[dim] for a in arrays)
    # END SOLUTION


@register_op("stack")
def stack_op(*arrays: np.ndarray, dim: int) -> tuple[np.ndarray, None]:
    """Stack along a new dim; every input must have the same shape."""
    _check_shapes("stack", arrays, dim, same_size=True)
    # HINT: the shapes are checked above; the rule slices the gradient along dim and needs nothing
    # HINT: saved.
    # BEGIN SOLUTION
    return np.stack(arrays, axis=dim), None
    # END SOLUTION
