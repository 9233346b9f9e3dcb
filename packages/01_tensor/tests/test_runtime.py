"""Process-level speed settings: on by default, opt-out, reversible, never changing results."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gradstack.tensor.runtime import (
    blas_threads,
    get_blas_threads,
    malloc_tuning_wanted,
    tune_malloc,
)

# a small computation whose every byte is printed: large temporaries (beyond glibc's
# default 128 KiB mmap threshold) are where the allocator setting acts
_PROGRAM = """
import hashlib
import numpy as np
from gradstack.tensor import Tensor, runtime
rng = np.random.default_rng(0)
a = Tensor(rng.standard_normal((300, 400)).astype(np.float32))
b = Tensor(rng.standard_normal((400, 500)).astype(np.float32))
out = ((a @ b) * 2.0 + 1.0).exp().sum(-1)
print(runtime.malloc_tuned(), hashlib.sha256(out.data.tobytes()).hexdigest())
"""


# a worker thread (a batch shard) allocates 160 MB in 8 MB arrays, frees them, and does it
# again, three more times: the later rounds' page faults say whether the memory stayed
_THREAD_PROGRAM = """
import resource, sys, threading
import numpy as np
from gradstack.tensor import runtime

if sys.argv[1] == "per-thread-arenas":  # the thresholds alone, as before the arena cap
    runtime.tune_malloc(arenas=None)

def rounds(faults):
    for _ in range(4):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        arrays = [np.ones(2 << 20, dtype=np.float32) for _ in range(20)]
        del arrays
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)

faults = []
worker = threading.Thread(target=rounds, args=(faults,))
worker.start()
worker.join()
print(*faults)
"""
_ROUND_PAGES = 20 * (8 << 20) // 4096


def _run(env_value: str | None, program: str = _PROGRAM, *args: str) -> list[str]:
    """Run a program in a fresh interpreter with GRADSTACK_MALLOC_TUNING set or unset."""
    env = dict(os.environ, NUMPY_MADVISE_HUGEPAGE="0")  # 4 KiB pages: faults count pages
    env.pop("GRADSTACK_MALLOC_TUNING", None)
    if env_value is not None:
        env["GRADSTACK_MALLOC_TUNING"] = env_value
    done = subprocess.run(
        [sys.executable, "-c", program, *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_blas_threads_is_restored():
    before = get_blas_threads()
    with blas_threads(1) as applied:
        if before is not None:
            assert applied
            assert get_blas_threads() == 1
    assert get_blas_threads() == before


def test_blas_threads_rejects_zero():
    with pytest.raises(ValueError, match="count must be >= 1"), blas_threads(0):
        pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_tune_malloc_applies_on_glibc():
    assert tune_malloc() is True


def test_tune_malloc_is_a_no_op_elsewhere(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert tune_malloc() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_malloc_is_tuned_on_import_and_the_variable_opts_out():
    tuned, digest_tuned = _run(None)
    untouched, digest_untouched = _run("0")
    assert (tuned, untouched) == ("True", "False")
    assert digest_tuned == digest_untouched  # the allocator never changes a result


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_a_threads_freed_memory_is_not_faulted_in_again():
    tuned = [int(count) for count in _run(None, _THREAD_PROGRAM, "default")]
    per_thread = [int(count) for count in _run("0", _THREAD_PROGRAM, "per-thread-arenas")]
    assert tuned[0] >= _ROUND_PAGES // 2  # the first round faults its memory in either way
    assert max(tuned[1:]) < _ROUND_PAGES // 100  # then reuses it: one arena, never trimmed
    # the control: with an arena per thread glibc unmaps the thread's emptied heaps
    assert min(per_thread[1:]) >= _ROUND_PAGES // 10


def test_malloc_tuning_variable_is_validated(monkeypatch):
    for value, wanted in (("off", False), ("1", True), ("", True)):
        monkeypatch.setenv("GRADSTACK_MALLOC_TUNING", value)
        assert malloc_tuning_wanted() is wanted
    monkeypatch.setenv("GRADSTACK_MALLOC_TUNING", "maybe")
    with pytest.raises(ValueError, match="GRADSTACK_MALLOC_TUNING='maybe'"):
        malloc_tuning_wanted()
