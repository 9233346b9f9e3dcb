"""Applying learned merges to one chunk: always the earliest-learned merge first.

``merge_ids`` maps a pair of ids to the id it merges into. Ids are handed out in the
order merges were learned, so the smallest id is also the highest-priority merge, and
applying merges by id replays training exactly.
"""

from __future__ import annotations

import heapq

#: Chunks up to this many bytes use the simple scan; longer ones the heap (O(n log n)).
SHORT_CHUNK = 32


def apply_merges(data: bytes, merge_ids: dict[tuple[int, int], int]) -> list[int]:
    """Encode one chunk's bytes to token ids by applying merges in the order they were learned."""
    if len(data) <= SHORT_CHUNK:
        return _apply_short(list(data), merge_ids)
    return _apply_long(list(data), merge_ids)


def _apply_short(ids: list[int], merge_ids: dict[tuple[int, int], int]) -> list[int]:
    """Apply the learned merges to a chunk's ids, as training did.

    Repeat: among the adjacent pairs, take the one learned first (the smallest merge id in
    ``merge_ids``); stop when no pair merges, else replace each of its occurrences, left to
    right and non-overlapping, by that id. Quadratic, but fast for short chunks.
    """
    # HINT: the pair to merge is the one learned first, not the most frequent in this chunk: BPE
    # HINT: replays training's order. 'aaa' with (a, a) gives [aa, a], never [a, aa].
    # BEGIN SOLUTION
    get = merge_ids.get
    never = 1 << 62
    while len(ids) > 1:
        best = min(get(pair, never) for pair in zip(ids, ids[1:]))
        if best == never:
            break
        out: list[int] = []
        i, n = 0, len(ids)
        while i < n:
            if i + 1 < n and get((ids[i], ids[i + 1])) == best:
                out.append(best)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        ids = out
    return ids
    # END SOLUTION


def _apply_long(ids: list[int], merge_ids: dict[tuple[int, int], int]) -> list[int]:
    """Merge via a heap of ``(new id, position)`` over a linked list; O(n log n) for long chunks.

    Popping the smallest new id, then the leftmost position, merges exactly as the
    left-to-right scan of ``_apply_short`` does. Entries made stale by earlier merges are
    recognised because the pair now at their position no longer merges into their id.
    """
    n = len(ids)
    nxt = list(range(1, n + 1))
    prv = list(range(-1, n - 1))
    alive = [True] * n
    heap = []
    for i in range(n - 1):
        new = merge_ids.get((ids[i], ids[i + 1]))
        if new is not None:
            heap.append((new, i))
    heapq.heapify(heap)
    while heap:
        new, i = heapq.heappop(heap)
        j = nxt[i]
        if not alive[i] or j >= n or merge_ids.get((ids[i], ids[j])) != new:
            continue
        ids[i] = new
        alive[j] = False
        nxt[i] = nxt[j]
        if nxt[j] < n:
            prv[nxt[j]] = i
        p = prv[i]
        if p >= 0:
            left = merge_ids.get((ids[p], new))
            if left is not None:
                heapq.heappush(heap, (left, p))
        if nxt[i] < n:
            right = merge_ids.get((new, ids[nxt[i]]))
            if right is not None:
                heapq.heappush(heap, (right, i))
    return [t for t, keep in zip(ids, alive) if keep]
