"""generator_scope: a thread draws from a generator of its own, other threads do not."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from gradstack.tensor import default_generator, generator_scope, manual_seed, rand


def test_inside_a_scope_random_ops_draw_from_its_generator():
    manual_seed(0)
    shared_first = default_generator().random()
    manual_seed(0)
    with generator_scope(np.random.default_rng(5)) as own:
        assert default_generator() is own
        drawn = rand(3).data
    np.testing.assert_array_equal(drawn, np.random.default_rng(5).random(3, dtype=np.float32))
    assert default_generator().random() == shared_first  # the shared one was not touched


def test_scopes_nest_and_belong_to_one_thread():
    outer, inner = np.random.default_rng(1), np.random.default_rng(2)
    seen = []
    with generator_scope(outer):
        with generator_scope(inner):
            assert default_generator() is inner
        assert default_generator() is outer
        other = threading.Thread(target=lambda: seen.append(default_generator()))
        other.start()
        other.join()
    assert seen[0] is not outer and seen[0] is default_generator()


def test_only_a_numpy_generator_is_accepted():
    wrong = np.random.RandomState(0)
    with pytest.raises(TypeError, match="expects a numpy.random.Generator"), generator_scope(wrong):
        pass
