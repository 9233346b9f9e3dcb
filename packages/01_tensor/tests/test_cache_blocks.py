"""Cache blocks: slices that cover an array once, in order, a bounded size each."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradstack.tensor import CACHE_BLOCK, cache_blocks, row_blocks, worker_scope
from gradstack.tensor.cache_blocking import WORKER_CACHE_BLOCK, block_size


@given(size=st.integers(0, 5000), block=st.integers(1, 700))
def test_cache_blocks_cover_every_index_once_in_order(size, block):
    slices = list(cache_blocks(size, block))
    covered = [i for s in slices for i in range(s.start, s.stop)]
    assert covered == list(range(size))
    assert all(0 < s.stop - s.start <= block for s in slices)
    assert all(s.stop - s.start == block for s in slices[:-1])  # only the last is short


def test_cache_blocks_default_to_the_cache_block():
    assert [(s.start, s.stop) for s in cache_blocks(CACHE_BLOCK + 3)] == [
        (0, CACHE_BLOCK),
        (CACHE_BLOCK, CACHE_BLOCK + 3),
    ]


def test_a_worker_thread_takes_larger_blocks():
    assert block_size() == CACHE_BLOCK
    with worker_scope():
        assert block_size() == WORKER_CACHE_BLOCK > CACHE_BLOCK
        assert cache_blocks(10**7)[0] == slice(0, WORKER_CACHE_BLOCK)
        assert row_blocks(10**5, 100)[0] == slice(0, WORKER_CACHE_BLOCK // 100)
    assert cache_blocks(10**7)[0] == slice(0, CACHE_BLOCK)


def test_row_blocks_hold_whole_rows_and_at_least_one():
    assert [(s.start, s.stop) for s in row_blocks(10, 300, block=1000)] == [
        (0, 3),
        (3, 6),
        (6, 9),
        (9, 10),
    ]
    assert [(s.start, s.stop) for s in row_blocks(2, 5000, block=1000)] == [(0, 1), (1, 2)]


def test_cache_blocks_reject_an_empty_block():
    with pytest.raises(ValueError, match="cache_blocks: block must be >= 1, got 0"):
        list(cache_blocks(10, 0))
