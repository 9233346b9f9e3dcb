"""Data parallelism in threads: one forward and backward per shard of a batch, at once.

NumPy releases the GIL inside BLAS calls and large ufuncs, so two Python threads that
each run a model on half a batch really do run in parallel. Each thread gets one BLAS
thread (``gradstack.tensor.runtime.blas_threads``), so small per-head matrix products
and the single-threaded elementwise work both use every core; measured on a 2-core
machine, this is what brings a NumPy GPT step level with PyTorch (bench/README.md).

Each shard's gradients come from ``autograd.grad`` (nothing is written to ``.grad``
while threads run, so no two threads ever add into the same array); they are summed
once all shards are done and accumulated into each parameter's ``.grad``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from gradstack.tensor import Tensor, blas_threads, note_blas_held, worker_scope

from .engine import grad

_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool(size: int) -> ThreadPoolExecutor:
    """A thread pool kept for the life of the process (one per size)."""
    pool = _POOLS.get(size)
    if pool is None:
        pool = _POOLS[size] = ThreadPoolExecutor(size, thread_name_prefix="gradstack-shard")
    return pool


def _scoped(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a thread marked as a worker: ops inside do not split again."""
    with worker_scope():
        return fn(*args)


def map_shards(fn: Callable[..., Any], *iterables: Sequence[Any]) -> list[Any]:
    """``[fn(*args) ...]`` over the shards, each in its own pool thread, one BLAS thread each."""
    count = len(iterables[0])
    try:
        with blas_threads(1):
            return list(_pool(count).map(_scoped, [fn] * count, *iterables))
    finally:
        note_blas_held()  # OpenBLAS's workers sleep now: intra-op blocks leave them be


def _rows(shard: Sequence[Any]) -> int:
    """Batch size of a shard: the length of its first argument."""
    first = shard[0]
    return int(first.shape[0] if isinstance(first, (Tensor, np.ndarray)) else len(first))


# Below about this much work in a batch's forward pass (multiply-adds, attention weighted:
# ``gradstack.transformer.forward_work``), a batch is too small to split. Measured on two
# 2-core machines, the work counting attention's 2 T C multiply-adds only. AMD EPYC, in
# one process alternating one and two shards: one shard won at 109M-218M (GPT width 64
# batch 32-64, width 128 batch 4), two tied at 335M-436M and won from 654M up (1.1-1.2x).
# Xeon, one and two shards pinned in separate processes (alternating biased against
# shards there): width 128 batch 8 (436M) trained in 26.9 vs 28.6 ms, batch 12 (654M)
# 38.7 vs 37.5, width 64 batch 8 at context 256 (336M) 27.3 vs 22.7, which attention's
# weight in forward_work (537M) now sends to two shards.
MIN_WORK_TO_SHARD = 500_000_000


def suggest_shards(batch_size: int, work_per_row: int, cores: int | None = None) -> int:
    """How many shards to run in parallel: one per core for large batches, else 1.

    ``work_per_row`` is the work of one batch row's forward pass, in multiply-adds (for a
    GPT, ``gradstack.transformer.forward_work``). Deterministic (no timing), so a resumed
    run makes the same choice and computes the same sums in the same order as the run
    it continues.
    """
    cores = cores or os.cpu_count() or 1
    if cores < 2 or batch_size < 2 or batch_size * work_per_row < MIN_WORK_TO_SHARD:
        return 1
    return min(cores, batch_size)


def shard_batch(*arrays: Any, shards: int) -> list[tuple[Any, ...]]:
    """Split every array along dim 0 into ``shards`` nearly equal parts, as tuples."""
    rows = _rows(arrays)
    if shards < 1 or shards > rows:
        raise ValueError(f"shard_batch: cannot split a batch of {rows} into {shards} shards")
    bounds = np.linspace(0, rows, shards + 1).astype(int)
    return [tuple(a[lo:hi] for a in arrays) for lo, hi in zip(bounds[:-1], bounds[1:])]


def data_parallel_backward(
    loss_fn: Callable[..., Tensor],
    shards: Sequence[Sequence[Any]],
    params: Sequence[Tensor],
) -> float:
    """Run ``loss_fn(*shard)`` for every shard in its own thread; accumulate gradients.

    ``loss_fn`` must return a scalar that is a mean over the shard's rows: each shard's
    gradient is weighted by its share of the rows, so the accumulated gradient is the
    gradient of the mean over the whole batch, as one backward on the full batch gives.
    Returns that full-batch loss. Gradients are added to ``.grad`` like ``backward()``.
    """
    params = list(params)
    if not shards:
        raise ValueError("data_parallel_backward: needs at least one shard")
    sizes = [_rows(shard) for shard in shards]
    total = sum(sizes)

    def run(shard: Sequence[Any], size: int) -> tuple[float, tuple[Tensor | None, ...]]:
        loss = loss_fn(*shard)
        if not isinstance(loss, Tensor) or loss.data.size != 1:
            raise ValueError("data_parallel_backward: loss_fn must return a one-element Tensor")
        weight = np.asarray(size / total, dtype=loss.dtype).reshape(loss.shape)
        return float(loss.item()) * size / total, grad(loss, params, weight, allow_unused=True)

    if len(shards) == 1:
        results = [run(shards[0], sizes[0])]
    else:
        results = map_shards(run, shards, sizes)
    for i, p in enumerate(params):
        parts = [r[1][i].data for r in results if r[1][i] is not None]
        if not parts:
            continue
        summed = parts[0]
        for part in parts[1:]:
            summed += part
        if p.grad is None:
            p.grad = Tensor(summed, dtype=summed.dtype)
        else:
            p.grad.data += summed
    return sum(r[0] for r in results)
