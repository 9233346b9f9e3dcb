"""OpenBLAS's own worker threads, borrowed to run the blocks of a large elementwise op.

After a two-thread matrix product, OpenBLAS's worker keeps spinning on the other core
for up to about 0.1 s (2**28 cycles), waiting for the next product. A thread of our own
woken in that time shares that core with the spinner, so an elementwise op split over
two threads right after a product ran no faster than on one (bench/README.md has the
figures). OpenBLAS runs any C function on its workers through ``gotoblas_pthread``, and
a spinning worker takes a job at once; ``run_on_blas_threads`` hands it Python blocks as
ctypes callbacks. The worker takes the GIL for the Python between NumPy calls, which
release it again.

A call costs more than a hand-off to a Python pool (the worker makes a thread state for
each callback: about 30 us more for no work), so ``intra_op.run_blocks`` uses it only for
large work. It exists for the pthreads OpenBLAS that NumPy's wheels ship; elsewhere, or
with ``GRADSTACK_BLAS_POOL=0``, ``blas_pool_threads()`` is 0 and intra_op keeps its own
pool. While blocks run on the workers, OpenBLAS must run products on one thread (a
two-thread product would wait for a worker that is busy with a block); ``run_blocks``
holds it there, as it does for its own pool.

A borrowed worker spins again after its block. That is free when products keep it
spinning anyway, but batch shards hold OpenBLAS at one thread, so its workers sleep; one
woken for a block then spun beside the next step's shards (config C forward 80 -> 119
ms). Batch shards therefore call ``note_blas_held()``, and for ``SPIN_SECONDS`` after it
``blas_workers_free()`` is False.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable, Sequence

from .runtime import env_switch, numpy_openblas

ENV_VAR = "GRADSTACK_BLAS_POOL"
_JOB = ctypes.CFUNCTYPE(None, ctypes.c_void_p)  # void job(void *argument)
SPIN_SECONDS = 0.1  # how long an OpenBLAS worker spins after a job (2**28 cycles at ~2.6 GHz)


class _Pool:
    """OpenBLAS's ``gotoblas_pthread`` and its thread count, looked up once."""

    searched = False
    run = None
    threads = 0
    held_at = -SPIN_SECONDS


def _find_pool() -> None:
    """Find ``gotoblas_pthread`` and the size of OpenBLAS's pool (its workers plus the caller)."""
    _Pool.searched, _Pool.run, _Pool.threads = True, None, 0
    lib = numpy_openblas()
    if lib is None or not env_switch(ENV_VAR, "own threads", "OpenBLAS's workers"):
        return
    try:
        run = lib.gotoblas_pthread
        threads = ctypes.c_int.in_dll(lib, "blas_num_threads").value
    except (AttributeError, ValueError):
        return
    run.argtypes = [ctypes.c_int, _JOB, ctypes.c_void_p, ctypes.c_int]
    run.restype = ctypes.c_int
    _Pool.run, _Pool.threads = run, threads


def blas_pool_threads() -> int:
    """How many blocks one ``run_on_blas_threads`` call can run at once (0: not available)."""
    if not _Pool.searched:
        _find_pool()
    return _Pool.threads if _Pool.run is not None else 0


def note_blas_held() -> None:
    """Record that OpenBLAS was just held at one thread for a while (batch shards did)."""
    _Pool.held_at = time.monotonic()


def blas_workers_free() -> bool:
    """Whether borrowing OpenBLAS's workers now costs nothing after: no shards just held it."""
    return time.monotonic() - _Pool.held_at >= SPIN_SECONDS


def run_on_blas_threads(tasks: Sequence[Callable[[], None]]) -> None:
    """Run ``tasks[0]`` here and the others on OpenBLAS's workers, all at once; re-raise errors."""
    count = len(tasks)
    if not 1 <= count <= blas_pool_threads():
        raise ValueError(
            f"run_on_blas_threads: {count} tasks for a pool of {blas_pool_threads()} threads"
        )
    errors: list[BaseException] = []

    def job(argument: int | None) -> None:
        index = ctypes.cast(argument, ctypes.POINTER(ctypes.c_int))[0]
        try:
            tasks[index]()
        except BaseException as error:  # noqa: BLE001 (re-raised in the calling thread)
            errors.append(error)

    callback = _JOB(job)
    indices = (ctypes.c_int * count)(*range(count))
    _Pool.run(count, callback, ctypes.cast(indices, ctypes.c_void_p), ctypes.sizeof(ctypes.c_int))
    if errors:
        raise errors[0]
