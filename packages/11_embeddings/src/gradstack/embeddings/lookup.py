"""The ``embedding`` op: a row lookup, and its gradient, a scatter-add into the table.

The op and its rule sit side by side because this package comes after autograd.
The forward is ``np.take`` along the rows. The backward adds every upstream row into
the row of the table it came from; an index that appears several times collects the
sum of its rows (``np.add.at``). The kernel (kernels.py) does the same scatter-add on a
flattened table, where NumPy has a fast path; the README compares the methods.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstack.autograd import register_rule
from gradstack.tensor import Node, Tensor, apply, register_op


@register_op("embedding")
def embedding_op(weight: np.ndarray, *, indices: np.ndarray) -> tuple[np.ndarray, None]:
    """Rows ``weight[indices]``: output shape ``indices.shape + (embedding_dim,)``."""
    # HINT: the indices are already checked (check_indices); the output is indices.shape + (D,), a
    # HINT: copy that the rule need not see: save nothing.
    # BEGIN SOLUTION
    return np.take(weight, indices, axis=0), None
    # END SOLUTION


@register_rule("embedding")
def embedding_backward(g: np.ndarray, node: Node) -> tuple[np.ndarray]:
    """d weight = scatter-add of the upstream rows into the looked-up rows (repeats add)."""
    weight = node.inputs[0].data
    return (scatter_add_rows(g, node.attrs["indices"], weight.shape[0], weight.dtype),)


def scatter_add_rows(
    rows: np.ndarray, indices: np.ndarray, num_rows: int, dtype: np.dtype
) -> np.ndarray:
    """A (num_rows, D) array of ``dtype`` whose row i is the sum of the rows of ``rows``
    (..., D) whose entry in ``indices`` (...) is i; rows never looked up stay 0."""
    # HINT: an index can repeat (the same token twice in a batch) and its rows must add up:
    # HINT: fancy-index assignment table[indices] += rows keeps only one of them (np.add.at
    # HINT: does not). Test: tox -e 11_embeddings -- -k repeat
    # BEGIN SOLUTION
    table = np.zeros((num_rows, rows.shape[-1]), dtype=dtype)  # (V, D)
    np.add.at(table, indices.reshape(-1), rows.reshape(-1, rows.shape[-1]))  # (N,), (N, D)
    return table
    # END SOLUTION


def check_indices(op: str, indices: Any, num_embeddings: int) -> np.ndarray:
    """Indices as a private intp array; TypeError unless integer, IndexError if out of range."""
    array = indices.data if isinstance(indices, Tensor) else indices
    if isinstance(array, (list, tuple, int, np.integer)):
        array = np.asarray(array)
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"{op}: indices must be an integer Tensor or array, got {type(indices).__name__}"
        )
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got dtype {array.dtype}")
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= num_embeddings:
            bad = low if low < 0 else high
            raise IndexError(
                f"{op}: index {bad} is out of range for an embedding table of size "
                f"{num_embeddings} (valid indices are 0..{num_embeddings - 1})"
            )
    return np.array(array, dtype=np.intp)


def embedding(indices: Any, weight: Tensor) -> Tensor:
    """Look up rows of ``weight`` (V, D) for integer ``indices`` of any shape -> (..., D)."""
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding: weight must be a Tensor, got {type(weight).__name__}")
    if weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape "
            f"{weight.shape}"
        )
    return lookup_rows(check_indices("embedding", indices, weight.shape[0]), weight)


def lookup_rows(index_array: np.ndarray, weight: Tensor) -> Tensor:
    """Apply the op to indices already checked by ``check_indices`` (no second pass)."""
    return apply(embedding_op, weight, indices=index_array)
