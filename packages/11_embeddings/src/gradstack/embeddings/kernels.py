"""Kernels of module 11: the embedding's scatter-add on a flattened table.

``np.add.at`` on the (V, D) table takes NumPy's generic path, one row at a time. The
kernel flattens each (row, column) pair into one index ``row * D + column`` and calls
``np.add.at`` on the 1-D table, which NumPy (>= 1.25) runs on a fast path; the sums are
the same (tests/test_kernels.py). The README and bench/scatter_add_methods.py compare it
with a one-hot matmul, sort + ``np.add.reduceat`` and ``np.bincount``.
"""

from __future__ import annotations

import numpy as np

from gradstack.tensor import Node, register_kernel


def scatter_add_rows_flat(
    rows: np.ndarray, indices: np.ndarray, num_rows: int, dtype: np.dtype
) -> np.ndarray:
    """The reference's ``scatter_add_rows``, as one ``np.add.at`` on the flat table."""
    dim = rows.shape[-1]
    values = rows.reshape(-1, dim)  # (..., D) -> (N, D)
    if values.dtype != dtype:
        values = values.astype(dtype)
    flat_index = indices.reshape(-1, 1) * dim + np.arange(dim)  # (N, 1) + (D,) -> (N, D)
    table = np.zeros(num_rows * dim, dtype=dtype)
    np.add.at(table, flat_index.reshape(-1), values.reshape(-1))
    return table.reshape(num_rows, dim)  # (V * D,) -> (V, D)


def embedding_take(weight: np.ndarray, *, indices: np.ndarray) -> tuple[np.ndarray, None]:
    """The reference forward, ``np.take`` along the rows (registered with its kernel backward)."""
    return np.take(weight, indices, axis=0), None


def embedding_backward(g: np.ndarray, node: Node) -> tuple[np.ndarray]:
    """d weight: the upstream rows scatter-added into the rows they were looked up from."""
    weight = node.inputs[0].data
    return (scatter_add_rows_flat(g, node.attrs["indices"], weight.shape[0], weight.dtype),)


register_kernel("embedding", embedding_take, embedding_backward)
