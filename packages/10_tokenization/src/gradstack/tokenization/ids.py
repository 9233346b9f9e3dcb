"""Checking token ids before decoding: integers only (``True`` and ``1.0`` are not ids)."""

from __future__ import annotations

import numbers
from collections.abc import Iterable


def check_ids(op: str, ids: Iterable[int], vocab_size: int) -> list[int]:
    """``ids`` as a list; a bool, float or other non-integer id is a ValueError naming it.

    ``True == 1`` and ``1.0 == 1`` would otherwise find token 1 in the vocabulary.
    """
    ids = list(ids)
    if all(type(i) is int for i in ids):  # the common case, checked fast
        return ids
    for pos, i in enumerate(ids):
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise ValueError(
                f"{op}: id {i!r} at position {pos} is not an integer token id "
                f"(vocab_size {vocab_size}, valid ids 0..{vocab_size - 1})"
            )
    return ids
