"""Process-level speed settings: the allocator (on by default) and BLAS threads.

- ``tune_malloc``: glibc hands NumPy's multi-megabyte temporaries back to the OS when
  they are freed and page-faults fresh memory in on the next step; raising the mmap
  threshold and switching off trimming keeps that memory in the process instead (the
  README has the measured gain). It also caps glibc at one arena: each extra thread
  (a batch shard) otherwise gets an arena of its own whose 64 MiB heaps glibc unmaps
  whenever they empty, trimming threshold or not, so a shard's activations were faulted
  back in every step (22,600 page faults and ~50 ms of kernel time per config-C step).
  It costs memory that the process then keeps (the peak of one step). **On by default**:
  ``apply_defaults`` runs it once, when gradstack.tensor is first imported, unless the
  environment variable ``GRADSTACK_MALLOC_TUNING=0`` says not to. It changes where memory
  comes from, never a result. ``restore_malloc`` puts glibc's initial thresholds back
  (``gradstack train --no-malloc-tuning``).
- ``blas_threads``: a context manager that sets how many threads OpenBLAS uses, so
  Python threads that each run part of a batch do not fight over the BLAS pool
  (see gradstack.autograd.data_parallel_backward).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # glibc's ceiling on 64-bit systems
_GLIBC_INITIAL_THRESHOLD = 128 * 1024  # both thresholds' initial value in glibc

MALLOC_ENV_VAR = "GRADSTACK_MALLOC_TUNING"
_OFF = ("0", "false", "off", "no")
_ON = ("", "1", "true", "on", "yes")


class _State:
    """Whether ``apply_defaults`` tuned malloc in this process."""

    malloc_tuned = False


def tune_malloc(
    mmap_threshold: int = _MMAP_THRESHOLD_MAX,
    trim_threshold: int = 1 << 30,
    arenas: int | None = 1,
) -> bool:
    """Keep freed large blocks in the process, one arena for all threads (glibc only).

    Returns whether glibc took the settings. ``arenas=None`` leaves the arena limit alone:
    glibc has no call that puts its default (one per thread, up to 8 per core) back, and
    it fixes the limit when a second thread first allocates.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    applied = mallopt(_M_MMAP_THRESHOLD, min(mmap_threshold, _MMAP_THRESHOLD_MAX))
    applied &= mallopt(_M_TRIM_THRESHOLD, trim_threshold)
    if arenas is not None:
        applied &= mallopt(_M_ARENA_MAX, arenas)
    return bool(applied)


def restore_malloc() -> bool:
    """Put glibc's initial thresholds (128 KiB) back; return whether it applied.

    The one-arena cap stays: glibc cannot be told to go back to its default.
    """
    restored = tune_malloc(_GLIBC_INITIAL_THRESHOLD, _GLIBC_INITIAL_THRESHOLD, arenas=None)
    _State.malloc_tuned = False
    return restored


def env_switch(name: str, off: str, on: str) -> bool:
    """An on/off environment variable: 0/false/off/no is off, 1/true/on/yes or unset is on.

    Any other value is an error naming the variable and what 0 and 1 mean (``off``, ``on``).
    """
    value = os.environ.get(name, "").strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    raise ValueError(f"{name}={os.environ[name]!r}: expected 0 ({off}) or 1 ({on})")


def malloc_tuning_wanted() -> bool:
    """Read ``GRADSTACK_MALLOC_TUNING``: 0/false/off/no opt out, 1/true/on/yes or unset on."""
    return env_switch(MALLOC_ENV_VAR, "leave malloc alone", "tune it")


def apply_defaults() -> None:
    """Once per process (on import of gradstack.tensor): tune malloc unless opted out."""
    if malloc_tuning_wanted():
        _State.malloc_tuned = tune_malloc()


def malloc_tuned() -> bool:
    """Whether gradstack's default malloc tuning is in effect in this process."""
    return _State.malloc_tuned


class _Blas:
    """The OpenBLAS that NumPy loaded and its set/get thread functions, found once (or None)."""

    searched = False
    lib: ctypes.CDLL | None = None
    set_threads = None
    get_threads = None


_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)


def _find_blas() -> None:
    """Look for OpenBLAS's thread functions in the libraries shipped with NumPy."""
    _Blas.searched = True
    folder = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in sorted(glob.glob(os.path.join(folder, "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _SYMBOLS:
            if hasattr(lib, set_name) and hasattr(lib, get_name):
                _Blas.lib = lib
                _Blas.set_threads = getattr(lib, set_name)
                _Blas.get_threads = getattr(lib, get_name)
                _Blas.set_threads.argtypes = [ctypes.c_int]
                return


def numpy_openblas() -> ctypes.CDLL | None:
    """The OpenBLAS library NumPy loaded (None when it is not an OpenBLAS we can find)."""
    if not _Blas.searched:
        _find_blas()
    return _Blas.lib


def get_blas_threads() -> int | None:
    """How many threads NumPy's OpenBLAS uses (None when it cannot be told)."""
    if not _Blas.searched:
        _find_blas()
    return None if _Blas.get_threads is None else int(_Blas.get_threads())


def set_blas_threads(count: int) -> bool:
    """Set OpenBLAS's thread count for the process; return whether it could be set."""
    if count < 1:
        raise ValueError(f"set_blas_threads: count must be >= 1, got {count}")
    if not _Blas.searched:
        _find_blas()
    if _Blas.set_threads is None:
        return False
    _Blas.set_threads(count)
    return True


@contextmanager
def blas_threads(count: int) -> Iterator[bool]:
    """Run a block with OpenBLAS limited to ``count`` threads; yields whether it applied."""
    if count < 1:
        raise ValueError(f"blas_threads: count must be >= 1, got {count}")
    previous = get_blas_threads()
    if previous is None or previous == count:
        yield previous is not None
        return
    _Blas.set_threads(count)
    try:
        yield True
    finally:
        _Blas.set_threads(previous)
