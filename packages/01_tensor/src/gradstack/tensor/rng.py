"""The one random generator behind init, dropout and sampling, seeded by ``manual_seed``."""

from __future__ import annotations

import numpy as np


class _Random:
    """Holds the process-wide generator; replaced, not mutated, by ``manual_seed``."""

    generator: np.random.Generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed parameter init, dropout masks and sampling everywhere in gradstack."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _Random.generator = np.random.default_rng(int(seed))
    return _Random.generator


def default_generator() -> np.random.Generator:
    """The generator every random op draws from."""
    return _Random.generator
