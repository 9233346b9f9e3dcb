"""Process-level speed settings for training entry points: allocator and BLAS threads.

Nothing here runs on import. A training entry point (``gradstack train``, the
benchmarks) calls these explicitly, and each is documented as an opt-out setting.

- ``tune_malloc``: glibc hands NumPy's multi-megabyte temporaries back to the OS when
  they are freed and page-faults fresh memory in on the next step; raising the mmap
  threshold and switching off trimming keeps that memory in the process instead (the
  README has the measured gain). It costs memory that the process then keeps (the peak
  of one step).
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
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # glibc's ceiling on 64-bit systems


def tune_malloc(mmap_threshold: int = _MMAP_THRESHOLD_MAX, trim_threshold: int = 1 << 30) -> bool:
    """Keep freed large blocks in the process (glibc only); return whether it applied."""
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
    return bool(applied)


class _Blas:
    """The set/get functions of the OpenBLAS that NumPy loaded, found once (or None)."""

    searched = False
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
                _Blas.set_threads = getattr(lib, set_name)
                _Blas.get_threads = getattr(lib, get_name)
                _Blas.set_threads.argtypes = [ctypes.c_int]
                return


def get_blas_threads() -> int | None:
    """How many threads NumPy's OpenBLAS uses (None when it cannot be told)."""
    if not _Blas.searched:
        _find_blas()
    return None if _Blas.get_threads is None else int(_Blas.get_threads())


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
