"""Cache blocks: run a chain of elementwise passes one cache-sized piece at a time.

A kernel that makes several NumPy passes over a large array (GELU's eight, layer norm's
six) reads and writes the whole array from main memory on every pass once it outgrows
the core's L2 cache. Done one block of ``CACHE_BLOCK`` elements at a time instead, every
pass after the first finds its block in L2: on a (2048, 1024) float32 array GELU's
forward took 3.9 -> 2.4 ms and its derivative 5.6 -> 2.5 ms (one thread). Each element
gets the same operations in the same order, so the results are bit-identical.
"""

from __future__ import annotations

from collections.abc import Iterator

CACHE_BLOCK = 1 << 16  # elements: 256 KiB of float32, a few arrays' worth fits in L2


def cache_blocks(size: int, block: int = CACHE_BLOCK) -> Iterator[slice]:
    """Slices covering ``range(size)`` in order, ``block`` elements each (the last shorter)."""
    if block < 1:
        raise ValueError(f"cache_blocks: block must be >= 1, got {block}")
    for start in range(0, size, block):
        yield slice(start, min(start + block, size))


def row_blocks(rows: int, row_size: int, block: int = CACHE_BLOCK) -> Iterator[slice]:
    """Slices of whole rows, about ``block`` elements each (at least one row per slice)."""
    return cache_blocks(rows, max(1, block // max(1, row_size)))
