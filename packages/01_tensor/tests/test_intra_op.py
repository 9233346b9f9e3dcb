"""Intra-op parallelism (gradstack.tensor.intra_op): how ops are cut into blocks, and how
the blocks run."""

from __future__ import annotations

import threading

import pytest

from gradstack.tensor import (
    blocks_for,
    in_worker,
    intra_op_settings,
    intra_op_threads,
    run_blocks,
    set_intra_op_threads,
    worker_scope,
)
from gradstack.tensor.intra_op import ENV_VAR, MIN_WORK, _default_threads


def covers(blocks: list[tuple[int, int]], rows: int) -> bool:
    """Contiguous, non-empty blocks from 0 to ``rows``."""
    return (
        blocks[0][0] == 0
        and blocks[-1][1] == rows
        and all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
        and all(lo < hi for lo, hi in blocks)
    )


def test_small_work_one_thread_or_one_row_is_one_block():
    with intra_op_settings(threads=4):
        assert blocks_for(100, MIN_WORK - 1) == [(0, 100)]
        assert blocks_for(1, 100 * MIN_WORK) == [(0, 1)]
    with intra_op_settings(threads=1):
        assert blocks_for(100, 100 * MIN_WORK) == [(0, 100)]


def test_large_work_is_split_evenly_over_at_most_threads_blocks():
    with intra_op_settings(threads=3):
        assert blocks_for(10, 100 * MIN_WORK) == [(0, 3), (3, 6), (6, 10)]
        assert blocks_for(2, 100 * MIN_WORK) == [(0, 1), (1, 2)]  # no more blocks than rows
        assert blocks_for(10, 2 * MIN_WORK) == [(0, 5), (5, 10)]  # each block worth waking
    with intra_op_settings(threads=4, min_work=0):
        for rows in range(2, 20):
            blocks = blocks_for(rows, rows)
            assert covers(blocks, rows) and len(blocks) == min(4, rows)


def test_a_worker_thread_never_splits_again():
    with intra_op_settings(threads=4, min_work=0):
        assert not in_worker()
        with worker_scope():
            assert in_worker()
            assert blocks_for(100, 100) == [(0, 100)]
        assert not in_worker()
        seen = []
        run_blocks(
            lambda lo, hi: seen.append((lo, hi, blocks_for(8, 8), in_worker())), [(0, 1), (1, 2)]
        )
        assert sorted(seen) == [(0, 1, [(0, 8)], True), (1, 2, [(0, 8)], True)]


def test_run_blocks_runs_every_block_once_the_first_in_the_calling_thread():
    calls: list[tuple[int, int, str]] = []
    lock = threading.Lock()

    def work(lo: int, hi: int) -> None:
        with lock:
            calls.append((lo, hi, threading.current_thread().name))

    run_blocks(work, [(0, 3), (3, 5), (5, 9)])
    assert sorted(c[:2] for c in calls) == [(0, 3), (3, 5), (5, 9)]
    names = {lo: name for lo, _, name in calls}
    assert names[0] == threading.current_thread().name
    assert names[3].startswith("gradstack-op") and names[5].startswith("gradstack-op")


@pytest.mark.parametrize("failing", [0, 1])
def test_an_error_in_any_block_reaches_the_caller_after_all_blocks_end(failing):
    finished = []

    def work(lo: int, hi: int) -> None:
        if lo == failing:
            raise ArithmeticError(f"block {lo}")
        finished.append(lo)

    with pytest.raises(ArithmeticError, match=f"block {failing}"):
        run_blocks(work, [(0, 1), (1, 2)])
    assert finished == [1 - failing]


def test_settings_are_restored_and_checked():
    before = intra_op_threads()
    with intra_op_settings(threads=7, min_work=0):
        assert intra_op_threads() == 7
    assert intra_op_threads() == before
    with pytest.raises(ValueError, match="count must be a positive int"):
        set_intra_op_threads(0)
    with pytest.raises(ValueError, match="count must be a positive int"):
        set_intra_op_threads(True)
    with pytest.raises(ValueError, match="min_work must be >= 0"), intra_op_settings(min_work=-1):
        pass
    assert intra_op_threads() == before


def test_thread_count_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "3")
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert _default_threads() == 3
    monkeypatch.delenv(ENV_VAR)
    assert _default_threads() == 5  # a BLAS/OpenMP pin is honoured
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert _default_threads() == 1
    monkeypatch.setenv(ENV_VAR, "two")
    with pytest.raises(ValueError, match="GRADSTACK_NUM_THREADS='two'"):
        _default_threads()
