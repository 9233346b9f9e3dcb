"""Compare ways to scatter-add (N, D) gradient rows into a (V, D) table; prints ms per call.

Run: python packages/11_embeddings/bench/scatter_add_methods.py
Each method is checked against np.add.at in float64 before it is timed. Times are the
minimum over repeats, wall clock and CPU (the CPU time is steadier on a shared machine).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from gradstack.embeddings.lookup import scatter_add_rows


def add_at_2d(idx: np.ndarray, g: np.ndarray, rows: int) -> np.ndarray:
    """np.add.at on the 2-D table (NumPy's generic, slow path)."""
    out = np.zeros((rows, g.shape[1]), g.dtype)
    np.add.at(out, idx, g)
    return out


def one_hot_matmul(idx: np.ndarray, g: np.ndarray, rows: int) -> np.ndarray:
    """A (N, V) one-hot matrix, transposed, times the gradient."""
    one_hot = np.zeros((idx.size, rows), g.dtype)
    one_hot[np.arange(idx.size), idx] = 1
    return one_hot.T @ g


def sort_reduceat(idx: np.ndarray, g: np.ndarray, rows: int) -> np.ndarray:
    """Sort the indices, sum each run of equal ones with np.add.reduceat."""
    order = np.argsort(idx, kind="stable")
    ordered = idx[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    out = np.zeros((rows, g.shape[1]), g.dtype)
    out[ordered[starts]] = np.add.reduceat(g[order], starts, axis=0)
    return out


def bincount_flat(idx: np.ndarray, g: np.ndarray, rows: int) -> np.ndarray:
    """One np.bincount over flat (row * D + column) indices (float64 inside)."""
    dim = g.shape[1]
    flat = (idx[:, None] * dim + np.arange(dim)).ravel()
    counts = np.bincount(flat, weights=g.ravel(), minlength=rows * dim)
    return counts.reshape(rows, dim).astype(g.dtype)


def bincount_columns(idx: np.ndarray, g: np.ndarray, rows: int) -> np.ndarray:
    """One np.bincount per column (a Python loop over D)."""
    columns = [np.bincount(idx, weights=g[:, j], minlength=rows) for j in range(g.shape[1])]
    return np.stack(columns, axis=1).astype(g.dtype)


def flat_add_at(idx: np.ndarray, g: np.ndarray, rows: int) -> np.ndarray:
    """What gradstack uses: np.add.at on the flattened table (NumPy's fast 1-D path)."""
    return scatter_add_rows(g, idx, rows, g.dtype)


METHODS: list[Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = [
    add_at_2d,
    one_hot_matmul,
    sort_reduceat,
    bincount_flat,
    bincount_columns,
    flat_add_at,
]


def best_ms(fn: Callable[..., object], *args: object, repeats: int = 40) -> tuple[float, float]:
    """Minimum wall-clock and CPU milliseconds of one call ``fn(*args)``."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn(*args)
        wall = min(wall, time.perf_counter() - w)
        cpu = min(cpu, time.process_time() - c)
    return wall * 1e3, cpu * 1e3


def main() -> None:
    """Time every method on N = 2048 indices over the course's table sizes."""
    rng = np.random.default_rng(0)
    print("N=2048 indices, float32; ms per call as wall / cpu (min over 40 runs)")
    print("V     D    " + "".join(f"{m.__name__:>20s}" for m in METHODS))
    for rows, dim in [(65, 64), (65, 256), (256, 128), (1000, 64), (1000, 256)]:
        idx = rng.integers(0, rows, 2048)
        g = rng.standard_normal((2048, dim)).astype(np.float32)
        expected = add_at_2d(idx, g.astype(np.float64), rows)
        cells = []
        for method in METHODS:
            np.testing.assert_allclose(method(idx, g, rows), expected, atol=1e-3)
            wall, cpu = best_ms(method, idx, g, rows)
            cells.append(f"{wall:9.2f} /{cpu:6.2f}")
        print(f"{rows:<5d} {dim:<4d} " + "".join(f"{c:>20s}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
