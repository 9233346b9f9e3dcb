"""GPT's forward kernel: a plain loop's forward and backward run over batch shards."""

from __future__ import annotations

import numpy as np

from gradstack.autograd import use_shards
from gradstack.losses import cross_entropy
from gradstack.tensor import Tensor, manual_seed, no_grad, use_references
from gradstack.transformer import GPT


def _model(dropout: float = 0.0) -> GPT:
    manual_seed(0)
    return GPT(
        vocab_size=11, embed_dim=16, num_layers=2, num_heads=2, max_seq_len=8, dropout=dropout
    )


def _batch():
    rng = np.random.default_rng(0)
    return rng.integers(0, 11, size=(6, 8)), rng.integers(0, 11, size=(6, 8))


def _step(model: GPT, shards: int):
    x, y = _batch()
    model.zero_grad()
    with use_shards(shards):
        logits = model(x)
        loss = cross_entropy(logits, Tensor(y))
        loss.backward()
    return logits, float(loss.item()), [p.grad.data.copy() for p in model.parameters()]


def test_plain_loop_over_shards_equals_one_batch():
    model = _model()
    logits_1, loss_1, grads_1 = _step(model, 1)
    logits_2, loss_2, grads_2 = _step(model, 2)
    assert logits_2.grad_fn.name() == "ShardedCallBackward"
    assert logits_1.grad_fn.name() != "ShardedCallBackward"
    np.testing.assert_allclose(logits_2.data, logits_1.data, rtol=1e-6, atol=1e-7)
    assert abs(loss_2 - loss_1) < 1e-6
    for got, want in zip(grads_2, grads_1):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)


def test_inference_over_shards_equals_one_batch():
    model = _model()
    x, _ = _batch()
    with no_grad(), use_shards(1):
        one = model(x).data
    with no_grad(), use_shards(3):
        three = model(x)
    assert three.grad_fn is None
    np.testing.assert_allclose(three.data, one, rtol=1e-6, atol=1e-7)


def test_references_stay_on_one_shard():
    x, _ = _batch()
    with use_shards(2), use_references():
        assert _model()(x).grad_fn.name() != "ShardedCallBackward"


def _dropout_step(shards: int):
    """A seeded plain step of a model with dropout: logits, loss and gradients."""
    model = _model(dropout=0.3)
    manual_seed(7)
    return _step(model, shards)


def test_dropout_over_shards_repeats_exactly_with_the_seed():
    """Each shard draws from its own generator, seeded in shard order: no thread races."""
    logits, loss, grads = _dropout_step(2)
    assert logits.grad_fn.name() == "ShardedCallBackward"
    for _ in range(3):
        again_logits, again_loss, again_grads = _dropout_step(2)
        np.testing.assert_array_equal(again_logits.data, logits.data)
        assert again_loss == loss
        for a, b in zip(again_grads, grads):
            np.testing.assert_array_equal(a, b)
    one_logits = _dropout_step(1)[0]
    assert one_logits.grad_fn.name() != "ShardedCallBackward"
    assert not np.allclose(one_logits.data, logits.data)  # other masks than one batch's


def test_dropout_over_shards_drops_in_every_shard_and_keeps_its_gradient_exact():
    """Shard by shard, the sharded step equals each shard's rows run alone with that
    shard's generator: the same masks, so the same logits and summed gradients."""
    from gradstack.tensor import default_generator, generator_scope

    model = _model(dropout=0.3)
    x, y = _batch()
    manual_seed(7)
    seeds = default_generator().integers(0, 2**63 - 1, size=2)  # what sharded_call draws
    parts = []
    for seed, rows in zip(seeds, (slice(0, 3), slice(3, 6))):
        with generator_scope(np.random.default_rng(int(seed))), use_shards(1):
            parts.append(model(x[rows]).data)
    manual_seed(7)
    with use_shards(2):
        logits = model(x)
    np.testing.assert_array_equal(logits.data, np.concatenate(parts))
    eval_logits = model.eval()(x).data
    assert not np.allclose(logits.data, eval_logits)  # dropout really dropped


def test_no_grad_forward_on_arrays_equals_the_modules():
    model = _model().to("float64")
    x, _ = _batch()
    with no_grad():
        with use_references():
            expected = model(x)
        for shards in (1, 2):
            with use_shards(shards):
                got = model(x)
            assert got.dtype == np.float64
            np.testing.assert_allclose(got.data, expected.data, rtol=1e-10, atol=1e-12)
