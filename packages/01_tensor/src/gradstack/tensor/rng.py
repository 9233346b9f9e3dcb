"""The one random generator behind init, dropout and sampling, seeded by ``manual_seed``.

A thread may draw from a generator of its own instead (``generator_scope``): batch shards
that run in parallel threads each get one, spawned from the default generator in shard
order, so their dropout masks do not depend on which thread draws first and a seeded run
repeats exactly (``gradstack.autograd.sharded_call``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


class _Random:
    """Holds the process-wide generator; replaced, not mutated, by ``manual_seed``."""

    generator: np.random.Generator = np.random.default_rng()


_local = threading.local()  # .generator: this thread's own generator while in a scope


def manual_seed(seed: int) -> np.random.Generator:
    """Seed parameter init, dropout masks and sampling everywhere in gradstack."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _Random.generator = np.random.default_rng(int(seed))
    return _Random.generator


def default_generator() -> np.random.Generator:
    """The generator every random op draws from (this thread's own one inside a scope)."""
    own = getattr(_local, "generator", None)
    return _Random.generator if own is None else own


@contextmanager
def generator_scope(generator: np.random.Generator) -> Iterator[np.random.Generator]:
    """Within the block, random ops in this thread draw from ``generator``."""
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"generator_scope: expects a numpy.random.Generator, got {type(generator).__name__}"
        )
    previous = getattr(_local, "generator", None)
    _local.generator = generator
    try:
        yield generator
    finally:
        _local.generator = previous
