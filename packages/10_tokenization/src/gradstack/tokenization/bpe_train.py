"""Learning BPE merges with incrementally updated pair counts, not a full recount per merge.

The text is reduced to its distinct chunks with their frequencies. Three structures are
kept up to date as merges are applied:

- ``counts``: pair -> number of adjacent occurrences, weighted by chunk frequency
  (overlaps count: the chunk ``aaa`` holds the pair ``(a, a)`` twice);
- ``where``: pair -> indices of the chunks that may hold it (stale entries are skipped);
- ``heap``: ``(-count, left, right)`` entries with lazy deletion: an entry whose count is
  out of date is re-pushed with its current count when it reaches the top.

A merge rewrites only the chunks that hold the pair, so its cost is proportional to
those chunks, not to the whole text.

Tie-break rule: the pair with the highest count wins; among equal counts, the
lexicographically smallest pair of ids ``(left, right)`` wins. The heap order
``(-count, left, right)`` is exactly this rule, so training is deterministic.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable


def merge_pair(ids: list[int], left: int, right: int, new_id: int) -> list[int]:
    """Replace each non-overlapping ``(left, right)`` in ``ids``, scanning left to right.

    Returns a new list: where ``ids[i], ids[i + 1] == left, right`` it holds ``new_id``
    and the scan skips both, else ``ids[i]``.
    """
    # HINT: overlaps: 'aaa' with the pair (a, a) becomes [new, a], not [new, new]; 'aaaa' becomes
    # HINT: [new, new].
    # BEGIN SOLUTION
    out: list[int] = []
    i, n = 0, len(ids)
    while i < n:
        if i + 1 < n and ids[i] == left and ids[i + 1] == right:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out
    # END SOLUTION


def learn_merges(
    chunks: Iterable[tuple[bytes, int]], num_merges: int, first_id: int = 256
) -> list[tuple[int, int]]:
    """Learn up to ``num_merges`` merges from ``(chunk bytes, frequency)`` pairs.

    Merge ``k`` creates id ``first_id + k``. Fewer merges are returned when no adjacent
    pair is left to merge (every chunk has become a single token).

    Each chunk starts as its bytes (ids 0-255). ``counts[pair]`` is the frequency-weighted
    number of adjacent occurrences of ``pair`` and ``where[pair]`` the chunks holding it. A
    heap of ``(-count, left, right)`` yields the next merge by the tie-break rule; each
    merge is applied with ``_apply_merge``, which updates ``counts`` and ``where`` and
    returns the pairs whose counts changed, pushed again with their new counts.
    """
    words: list[list[int]] = []
    freqs: list[int] = []
    counts: dict[tuple[int, int], int] = defaultdict(int)
    where: dict[tuple[int, int], set[int]] = defaultdict(set)
    # HINT: a popped heap entry may be stale: its count changed after it was pushed. Compare it
    # HINT: with counts and push it back with its current count (if any) instead of merging.
    # HINT: Overlapping pairs count: 'aaa' holds (a, a) twice. Test: tox -e 10_tokenization
    # BEGIN SOLUTION
    for index, (data, freq) in enumerate(chunks):
        word = list(data)
        words.append(word)
        freqs.append(freq)
        for pair in zip(word, word[1:]):
            counts[pair] += freq
            where[pair].add(index)

    heap = [(-c, a, b) for (a, b), c in counts.items()]
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    while len(merges) < num_merges and heap:
        neg, a, b = heapq.heappop(heap)
        current = counts.get((a, b), 0)
        if current != -neg:
            if current > 0:
                heapq.heappush(heap, (-current, a, b))
            continue
        new_id = first_id + len(merges)
        merges.append((a, b))
        for pair in _apply_merge(words, freqs, counts, where, (a, b), new_id):
            heapq.heappush(heap, (-counts[pair], *pair))
    # END SOLUTION
    return merges


def _apply_merge(
    words: list[list[int]],
    freqs: list[int],
    counts: dict[tuple[int, int], int],
    where: dict[tuple[int, int], set[int]],
    pair: tuple[int, int],
    new_id: int,
) -> set[tuple[int, int]]:
    """Merge ``pair`` into ``new_id`` where it occurs; return the new pairs (they hold ``new_id``).

    Only pairs holding ``new_id`` can gain count from a merge, so they are the only ones
    the caller must push onto the heap; all others keep or lose count.
    """
    a, b = pair
    created: set[tuple[int, int]] = set()
    lowered: set[tuple[int, int]] = set()
    for index in where.pop(pair):
        word = words[index]
        new_word = merge_pair(word, a, b, new_id)
        if len(new_word) == len(word):
            continue
        freq = freqs[index]
        for old in zip(word, word[1:]):
            counts[old] -= freq
            lowered.add(old)
        for new in zip(new_word, new_word[1:]):
            counts[new] += freq
            where[new].add(index)
            if new_id in new:
                created.add(new)
        words[index] = new_word
    for old in lowered:
        if counts[old] == 0:
            del counts[old]
            where.pop(old, None)
    return created
