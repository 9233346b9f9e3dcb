"""Data-parallel backward in threads gives the full-batch gradient."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.activations import relu
from gradstack.autograd import data_parallel_backward, shard_batch, suggest_shards
from gradstack.layers import Linear, Sequential
from gradstack.losses import cross_entropy
from gradstack.tensor import Tensor, manual_seed


def _model_and_data(rows: int = 10):
    manual_seed(0)
    model = Sequential(Linear(6, 16), relu, Linear(16, 4))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((rows, 3, 6)).astype(np.float32)
    y = rng.integers(0, 4, size=(rows, 3))
    return model, x, y


def _loss(model):
    return lambda x, y: cross_entropy(model(Tensor(x)), Tensor(y))


@pytest.mark.parametrize("shards", [1, 2, 3])
def test_equals_full_batch_gradient(shards):
    model, x, y = _model_and_data()
    full = _loss(model)(x, y)
    full.backward()
    expected = [p.grad.data.copy() for p in model.parameters()]
    model.zero_grad()
    loss = data_parallel_backward(
        _loss(model), shard_batch(x, y, shards=shards), model.parameters()
    )
    assert loss == pytest.approx(full.item(), rel=1e-6)
    for p, want in zip(model.parameters(), expected):
        np.testing.assert_allclose(p.grad.data, want, rtol=1e-5, atol=1e-7)


def test_accumulates_into_existing_grad():
    model, x, y = _model_and_data()
    params = model.parameters()
    data_parallel_backward(_loss(model), shard_batch(x, y, shards=2), params)
    once = [p.grad.data.copy() for p in params]
    data_parallel_backward(_loss(model), shard_batch(x, y, shards=2), params)
    for p, first in zip(params, once):
        np.testing.assert_allclose(p.grad.data, 2 * first, rtol=1e-6)


def test_shard_batch_splits_rows():
    x, y = np.arange(10), np.arange(10) * 2
    parts = shard_batch(x, y, shards=3)
    assert [len(a) for a, _ in parts] == [3, 3, 4]
    np.testing.assert_array_equal(np.concatenate([b for _, b in parts]), y)
    with pytest.raises(ValueError, match="cannot split a batch of 10 into 11"):
        shard_batch(x, shards=11)


def test_loss_must_be_scalar():
    model, x, y = _model_and_data()
    with pytest.raises(ValueError, match="one-element Tensor"):
        data_parallel_backward(
            lambda x, y: model(Tensor(x)), shard_batch(x, y, shards=2), model.parameters()
        )


def _gpt_work(seq_len: int, width: int, layers: int) -> int:
    """gradstack.transformer.forward_work, written out (this package cannot import it)."""
    return seq_len * layers * width * (12 * width + 5 * seq_len)


def test_suggest_shards_splits_only_large_batches():
    assert suggest_shards(16, _gpt_work(32, 64, 2), cores=2) == 1  # bench config A: 61M
    assert suggest_shards(64, _gpt_work(32, 64, 2), cores=2) == 1  # width 64 batch 64: 243M
    assert suggest_shards(4, _gpt_work(64, 128, 4), cores=2) == 1  # width 128 batch 4: 243M
    assert suggest_shards(8, _gpt_work(64, 128, 4), cores=2) == 1  # width 128 batch 8: 486M
    assert suggest_shards(8, _gpt_work(256, 64, 2), cores=2) == 2  # ... context 256: 537M
    assert suggest_shards(12, _gpt_work(64, 128, 4), cores=2) == 2  # width 128 batch 12: 730M
    assert suggest_shards(32, _gpt_work(64, 128, 4), cores=2) == 2  # bench config B
    assert suggest_shards(32, _gpt_work(64, 128, 4), cores=1) == 1
    assert suggest_shards(3, 1 << 30, cores=8) == 3  # never more shards than rows
    assert suggest_shards(1, 1 << 40, cores=8) == 1
