"""Intra-op parallelism: one large op's work split into blocks that run on every core.

NumPy releases the GIL inside its ufunc loops and BLAS calls, so a large op split into
row blocks, one per thread, runs on all cores at once. This is for the work OpenBLAS
does not thread: elementwise passes and reductions, and stacks of small matrix products
(attention's per-head products are too small for OpenBLAS to split). One large product
is left to OpenBLAS, which threads it itself; splitting those here measured no better
(bench/README.md). While blocks run, OpenBLAS is held to one thread per block, so the
blocks never start BLAS threads of their own on a busy core. Blocks whose NumPy calls
are large run on OpenBLAS's own workers when they are free (``blas_pool.py``): after a
product one of them spins on the other core, and a thread of ours could not use it.
The kernel that splits today is the flat AdamW; GELU split over two threads measured
slower than on one (GIL hand-offs between its short calls).

- ``intra_op_threads()``: how many threads an op may use. Set by ``set_intra_op_threads``
  or the environment variable ``GRADSTACK_NUM_THREADS``; else ``OMP_NUM_THREADS`` or
  ``OPENBLAS_NUM_THREADS`` when the user pinned BLAS; else the cores this process may
  run on.
- ``blocks_for(rows, work)``: the row blocks to split an op into: one block (no split)
  when the work is too small to pay for waking a thread (about 45 us here), when only
  one thread is allowed, or inside a thread that is already one of several (a batch
  shard of ``gradstack.autograd.sharded_call``, or a block of another op).
- ``intra_op_settings(threads=, min_work=)``: a block with another thread count or split
  threshold (tests force splits with ``min_work=0``).
- ``run_blocks(fn, blocks, large_calls=)``: ``fn(lo, hi)`` for every block, the first in
  the calling thread, the others on OpenBLAS's workers (large calls, workers free) or on
  a small pool kept for the life of the process.

Results do not depend on the split: every block computes exactly the rows it owns with
the same operations, so the bytes are the same with one thread or several (tested).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial

from .blas_pool import blas_pool_threads, blas_workers_free, run_on_blas_threads
from .runtime import blas_threads

ENV_VAR = "GRADSTACK_NUM_THREADS"
# Below this much work, counted in element visits (an elementwise pass over n elements is
# n), splitting costs more than it saves: waking a pool thread takes about 45 us on this
# machine, 2**19 float32 element visits about 120 us.
MIN_WORK = 1 << 19
# Blocks whose NumPy calls each take at least this many elements run on OpenBLAS's workers
# (``run_blocks(large_calls=True)``): after a product, 2**20 elements in calls of 2**18
# took 643 us there, 960 on our pool, 901 on one thread; in calls of 2**15 1,131, 964, 887.
LARGE_CALL = 1 << 17


class _State:
    """The thread count in use (None: not decided yet), the split threshold and the pool."""

    threads: int | None = None
    min_work = MIN_WORK
    pool: ThreadPoolExecutor | None = None
    pool_size = 0


_local = threading.local()


def _default_threads() -> int:
    """``GRADSTACK_NUM_THREADS``, else a BLAS variable the user set, else usable cores."""
    for name in (ENV_VAR, "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if not value:
            continue
        if not value.isdigit() or int(value) < 1:
            if name == ENV_VAR:
                raise ValueError(f"{ENV_VAR}={value!r}: expected a positive number of threads")
            continue
        return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def intra_op_threads() -> int:
    """How many threads one op may use (decided once, on first use)."""
    if _State.threads is None:
        set_intra_op_threads(_default_threads())
    return _State.threads  # type: ignore[return-value]


def set_intra_op_threads(count: int) -> None:
    """Let each large elementwise op use ``count`` threads (1: all in the calling thread)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"set_intra_op_threads: count must be a positive int, got {count!r}")
    _State.threads = count


@contextmanager
def intra_op_settings(threads: int | None = None, min_work: int | None = None) -> Iterator[None]:
    """Run a block with another thread count and/or split threshold (``min_work=0``: split
    every op that has two rows), then restore both; what tests use to force a split."""
    previous = (intra_op_threads(), _State.min_work)
    if min_work is not None and (isinstance(min_work, bool) or min_work < 0):
        raise ValueError(f"intra_op_settings: min_work must be >= 0, got {min_work!r}")
    try:
        if threads is not None:
            set_intra_op_threads(threads)
        if min_work is not None:
            _State.min_work = min_work
        yield
    finally:
        _State.threads, _State.min_work = previous


def in_worker() -> bool:
    """Whether this thread is already one of several working at once (then: no split)."""
    return getattr(_local, "busy", False)


@contextmanager
def worker_scope() -> Iterator[None]:
    """Mark the current thread as one of several: ops inside it do not split again."""
    previous = in_worker()
    _local.busy = True
    try:
        yield
    finally:
        _local.busy = previous


def blocks_for(rows: int, work: int) -> list[tuple[int, int]]:
    """Row blocks ``[(lo, hi), ...]`` for an op on ``rows`` rows making ``work`` element visits."""
    threads = intra_op_threads()
    if threads < 2 or rows < 2 or work < _State.min_work or in_worker():
        return [(0, rows)]
    count = int(min(threads, rows, work // max(1, _State.min_work)))
    bounds = [rows * i // count for i in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def _pool(size: int) -> ThreadPoolExecutor:
    """The helper threads (``size`` of them), kept for the life of the process."""
    if _State.pool is None or _State.pool_size < size:
        _State.pool = ThreadPoolExecutor(size, thread_name_prefix="gradstack-op")
        _State.pool_size = size
    return _State.pool


def _in_worker_scope(fn: Callable[[int, int], None], lo: int, hi: int) -> None:
    """Run one block on a pool thread, marked so that nothing inside splits again."""
    with worker_scope():
        fn(lo, hi)


def run_blocks(
    fn: Callable[[int, int], None], blocks: Sequence[tuple[int, int]], *, large_calls: bool = False
) -> None:
    """Call ``fn(lo, hi)`` for every block at once: the first here, the rest on helper threads.

    ``large_calls=True`` says each block's NumPy calls take ``LARGE_CALL`` elements or more:
    then the helpers are OpenBLAS's own workers when it has enough (``blas_pool``), which
    may still be spinning after a product, unless batch shards just left them asleep.
    Otherwise they are this module's pool: with short calls the GIL hand-offs between
    them cost less there.
    """
    if len(blocks) == 1:
        fn(*blocks[0])
        return
    if large_calls and len(blocks) <= blas_pool_threads() and blas_workers_free():
        with blas_threads(1):
            run_on_blas_threads([partial(_in_worker_scope, fn, lo, hi) for lo, hi in blocks])
        return
    pool = _pool(len(blocks) - 1)
    with blas_threads(1):
        futures: list[Future] = [pool.submit(_in_worker_scope, fn, lo, hi) for lo, hi in blocks[1:]]
        try:
            with worker_scope():
                fn(*blocks[0])
        finally:
            for future in futures:
                future.result()
