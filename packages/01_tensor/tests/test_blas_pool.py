"""OpenBLAS's workers borrowed for an op's blocks (gradstack.tensor.blas_pool, run_blocks)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from gradstack.tensor import blas_pool, note_blas_held, run_blocks
from gradstack.tensor.blas_pool import (
    ENV_VAR,
    SPIN_SECONDS,
    blas_pool_threads,
    blas_workers_free,
    run_on_blas_threads,
)
from gradstack.tensor.runtime import numpy_openblas

needs_two = pytest.mark.skipif(
    blas_pool_threads() < 2,
    reason="NumPy's BLAS is not an OpenBLAS with gotoblas_pthread and 2+ threads here",
)


@pytest.fixture
def fresh_pool(monkeypatch):
    """Let a test look the pool up again (under its own environment), then restore it."""
    saved = (blas_pool._Pool.searched, blas_pool._Pool.run, blas_pool._Pool.threads)
    monkeypatch.setattr(blas_pool._Pool, "searched", False)
    yield
    blas_pool._Pool.searched, blas_pool._Pool.run, blas_pool._Pool.threads = saved


@pytest.fixture
def workers_free(monkeypatch):
    """As if no batch shards had held OpenBLAS recently."""
    monkeypatch.setattr(blas_pool._Pool, "held_at", -SPIN_SECONDS)


def where_tasks_run(count: int) -> dict[int, tuple[int, str]]:
    """Run ``count`` tasks on the pool; each records its thread's id and name."""
    seen: dict[int, tuple[int, str]] = {}
    lock = threading.Lock()

    def task(index: int):
        def record() -> None:
            with lock:
                seen[index] = (threading.get_ident(), threading.current_thread().name)

        return record

    run_on_blas_threads([task(i) for i in range(count)])
    return seen


@needs_two
def test_tasks_run_once_each_the_first_here_the_others_on_openblas_threads():
    seen = where_tasks_run(2)
    assert sorted(seen) == [0, 1]
    assert seen[0][0] == threading.get_ident()
    assert seen[1][0] != threading.get_ident()
    assert not seen[1][1].startswith("gradstack-op")  # OpenBLAS's thread, not our pool's


@needs_two
@pytest.mark.parametrize("failing", [0, 1])
def test_an_error_in_a_task_reaches_the_caller_after_every_task_ends(failing):
    finished = []

    def task(index: int):
        def run() -> None:
            if index == failing:
                raise ArithmeticError(f"task {index}")
            finished.append(index)

        return run

    with pytest.raises(ArithmeticError, match=f"task {failing}"):
        run_on_blas_threads([task(0), task(1)])
    assert finished == [1 - failing]


def test_more_tasks_than_the_pool_has_threads_is_an_error():
    too_many = blas_pool_threads() + 1
    with pytest.raises(ValueError, match=f"{too_many} tasks for a pool of"):
        run_on_blas_threads([lambda: None] * too_many)
    with pytest.raises(ValueError, match="0 tasks"):
        run_on_blas_threads([])


def test_the_environment_opts_out_and_bad_values_are_an_error(monkeypatch, fresh_pool):
    monkeypatch.setenv(ENV_VAR, "0")
    assert blas_pool_threads() == 0
    monkeypatch.setattr(blas_pool._Pool, "searched", False)
    monkeypatch.setenv(ENV_VAR, "maybe")
    with pytest.raises(ValueError, match="GRADSTACK_BLAS_POOL='maybe'"):
        blas_pool_threads()


def test_shards_holding_openblas_make_the_workers_busy_for_a_spin_time(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(blas_pool.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(blas_pool._Pool, "held_at", -SPIN_SECONDS)
    assert blas_workers_free()
    note_blas_held()
    assert not blas_workers_free()
    clock[0] += SPIN_SECONDS * 0.99
    assert not blas_workers_free()
    clock[0] += SPIN_SECONDS * 0.02
    assert blas_workers_free()


def block_threads(large_calls: bool) -> dict[int, str]:
    """Thread names of two blocks run by ``run_blocks``."""
    names: dict[int, str] = {}
    run_blocks(
        lambda lo, hi: names.__setitem__(lo, threading.current_thread().name),
        [(0, 3), (3, 5)],
        large_calls=large_calls,
    )
    return names


@needs_two
def test_run_blocks_uses_openblas_threads_only_for_large_calls_and_free_workers(workers_free):
    assert not block_threads(large_calls=True)[3].startswith("gradstack-op")
    assert block_threads(large_calls=False)[3].startswith("gradstack-op")
    note_blas_held()  # batch shards just ran: the workers sleep and are left asleep
    assert block_threads(large_calls=True)[3].startswith("gradstack-op")


NESTED_PRODUCTS = textwrap.dedent(
    """
    import numpy as np
    from gradstack.tensor import blas_threads, run_blocks
    from gradstack.tensor.blas_pool import blas_pool_threads

    if blas_pool_threads() < 2:  # OpenBLAS caps its threads at the cores
        raise SystemExit(f"pool {blas_pool_threads()}")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 384, 384)).astype(np.float32)
    out = np.empty_like(a)

    def products(lo, hi):
        for i in range(lo, hi):
            np.matmul(a[i], a[i].T, out=out[i])  # large enough for OpenBLAS to thread

    for _ in range(20):
        a @ a  # leave OpenBLAS's worker spinning
        run_blocks(products, [(0, 2), (2, 4)], large_calls=True)
    with blas_threads(1):
        expected = np.stack([x @ x.T for x in a])
    assert np.array_equal(out, expected)
    print("ok")
    """
)


@pytest.mark.skipif(numpy_openblas() is None, reason="NumPy's BLAS is not OpenBLAS here")
def test_products_inside_blocks_on_openblas_threads_finish_and_match_one_thread():
    """A block's product must not wait for the worker that runs the other block (a hang)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", ENV_VAR: "1"}
    result = subprocess.run(
        [sys.executable, "-c", NESTED_PRODUCTS],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.stderr.startswith("pool "):
        pytest.skip(f"OpenBLAS runs one thread on this machine ({result.stderr.strip()})")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@needs_two
def test_blocks_write_the_same_bytes_on_openblas_threads_as_in_one_call(workers_free):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(10_000).astype(np.float32)
    whole, split = np.empty_like(x), np.empty_like(x)

    def gelu_like(out: np.ndarray):
        def block(lo: int, hi: int) -> None:
            np.tanh(x[lo:hi], out=out[lo:hi])
            out[lo:hi] *= x[lo:hi]

        return block

    gelu_like(whole)(0, x.size)
    run_blocks(gelu_like(split), [(0, 4_321), (4_321, x.size)], large_calls=True)
    np.testing.assert_array_equal(whole, split)
