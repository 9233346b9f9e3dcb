"""sharded_call: shards in threads as one node that a plain backward() honours."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.activations import relu
from gradstack.autograd import sharded_call, shards_for, suggest_shards, use_shards
from gradstack.layers import Linear, Sequential
from gradstack.losses import cross_entropy
from gradstack.tensor import Tensor, manual_seed, no_grad


def _model_and_data(rows: int = 10):
    manual_seed(0)
    model = Sequential(Linear(6, 16), relu, Linear(16, 4))
    model.double()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((rows, 3, 6))
    y = rng.integers(0, 4, size=(rows, 3))
    return model, x, y


def _gradients(model, x, y, shards):
    model.zero_grad()
    logits = sharded_call(lambda part: model(Tensor(part)), x, list(model.parameters()), shards)
    loss = cross_entropy(logits, Tensor(y))
    loss.backward()
    return logits, float(loss.item()), [p.grad.data.copy() for p in model.parameters()]


@pytest.mark.parametrize("shards", [2, 3])
def test_backward_equals_the_unsharded_gradient(shards):
    model, x, y = _model_and_data()
    logits_1, loss_1, grads_1 = _gradients(model, x, y, 1)
    logits_n, loss_n, grads_n = _gradients(model, x, y, shards)
    assert logits_n.grad_fn.name() == "ShardedCallBackward"
    np.testing.assert_array_equal(logits_n.data, logits_1.data)  # rows are independent
    assert loss_n == loss_1
    for got, want in zip(grads_n, grads_1):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


def test_sharded_gradients_are_deterministic():
    model, x, y = _model_and_data()
    first = _gradients(model, x, y, 2)[2]
    second = _gradients(model, x, y, 2)[2]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_one_shard_is_the_plain_call():
    model, x, _ = _model_and_data()
    logits = sharded_call(lambda part: model(Tensor(part)), x, list(model.parameters()), 1)
    assert logits.grad_fn.name() != "ShardedCallBackward"


def test_no_grad_records_no_node():
    model, x, _ = _model_and_data()
    with no_grad():
        logits = sharded_call(lambda part: model(Tensor(part)), x, list(model.parameters()), 2)
    assert logits.grad_fn is None and not logits.requires_grad
    np.testing.assert_array_equal(logits.data, model(Tensor(x)).data)


def test_shards_for_override_order(monkeypatch):
    monkeypatch.delenv("GRADSTACK_SHARDS", raising=False)
    assert shards_for(64, 1 << 16) == suggest_shards(64, 1 << 16)
    monkeypatch.setenv("GRADSTACK_SHARDS", "1")
    assert shards_for(64, 1 << 16) == 1
    with use_shards(3):
        assert shards_for(64, 1 << 16) == 3
        assert shards_for(2, 1 << 16) == 2  # never more shards than rows
    assert shards_for(64, 1 << 16) == 1


def test_bad_shard_settings_fail_clearly(monkeypatch):
    monkeypatch.setenv("GRADSTACK_SHARDS", "two")
    with pytest.raises(ValueError, match="GRADSTACK_SHARDS='two'"):
        shards_for(64, 1 << 16)
    with pytest.raises(ValueError, match="use_shards: count must be >= 1"):
        use_shards(0)


def test_random_shards_draw_from_generators_seeded_in_shard_order():
    """random=True: shard i draws from default_rng(seed_i), the seeds one draw of the
    caller's generator, so the draws never depend on which thread runs first."""
    from gradstack.tensor import default_generator

    x = np.zeros((6, 2))

    def noisy(part):
        return Tensor(part + default_generator().random(part.shape), dtype=np.float64)

    manual_seed(3)
    out = sharded_call(noisy, x, [], 3, random=True)
    after = default_generator().random()
    manual_seed(3)
    seeds = default_generator().integers(0, 2**63 - 1, size=3)
    assert default_generator().random() == after  # the caller's generator: one draw
    expected = np.concatenate([np.random.default_rng(int(s)).random((2, 2)) for s in seeds])
    np.testing.assert_array_equal(out.data, expected)
    manual_seed(3)
    again = sharded_call(noisy, x, [], 3, random=True)
    np.testing.assert_array_equal(again.data, out.data)
