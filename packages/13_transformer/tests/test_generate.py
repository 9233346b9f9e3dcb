"""GPT.generate: KV cache against recomputation, cropping, sampling settings, modes."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.tensor import Tensor, is_grad_enabled, manual_seed, no_grad
from gradstack.transformer import GPT
from gradstack.transformer.generation import CachedDecoder


def make_model(max_seq_len=16, dropout=0.0) -> GPT:
    manual_seed(0)
    model = GPT(
        vocab_size=20,
        embed_dim=16,
        num_layers=2,
        num_heads=4,
        max_seq_len=max_seq_len,
        dropout=dropout,
    )
    rng = np.random.default_rng(0)
    for parameter in model.parameters():  # sharper distributions than the 0.02 init
        parameter.data += rng.standard_normal(parameter.shape).astype(np.float32) * 0.3
    return model


def greedy_by_recomputation(model, tokens, steps, window):
    """Reference: run the full model on the last ``window`` tokens and take the argmax."""
    sequence = np.array(tokens)
    with no_grad():
        for _ in range(steps):
            logits = model(sequence[:, -window:]).data[:, -1]  # (B, V)
            sequence = np.concatenate([sequence, logits.argmax(-1)[:, None]], axis=1)
    return sequence


def test_kv_cache_greedy_equals_recomputation_batch_3():
    model = make_model(max_seq_len=16)
    prompt = np.random.default_rng(1).integers(0, 20, size=(3, 4))
    expected = greedy_by_recomputation(model, prompt, 12, 16)  # 4 + 12 = max_seq_len
    cached = model.generate(prompt, 12, top_k=1)
    recomputed = model.generate(prompt, 12, top_k=1, use_cache=False)
    assert isinstance(cached, Tensor) and cached.dtype == np.int64 and cached.shape == (3, 16)
    np.testing.assert_array_equal(cached.data, expected)
    np.testing.assert_array_equal(recomputed.data, expected)
    assert len({tuple(row) for row in cached.data[:, 4:]}) > 1  # rows are decoded separately


def test_cache_refill_when_full_follows_the_documented_schedule():
    """Past max_seq_len the cache is re-filled with the last max_seq_len // 2 tokens."""
    model = make_model(max_seq_len=8)
    prompt = np.random.default_rng(2).integers(0, 20, size=(2, 3))
    cached = model.generate(prompt, 15, top_k=1).data
    sequence = prompt.copy()
    window_start = 0
    with no_grad():
        for _ in range(15):
            if sequence.shape[1] - window_start > 8:  # full: keep the last 4
                window_start = sequence.shape[1] - 1 - 4 + 1
            logits = model(sequence[:, window_start:]).data[:, -1]
            sequence = np.concatenate([sequence, logits.argmax(-1)[:, None]], axis=1)
    np.testing.assert_array_equal(cached, sequence)


def test_recomputation_crops_like_nanogpt_and_long_prompts_are_cropped():
    model = make_model(max_seq_len=8)
    prompt = np.random.default_rng(3).integers(0, 20, size=(2, 11))  # longer than max_seq_len
    out = model.generate(prompt, 6, top_k=1, use_cache=False).data
    np.testing.assert_array_equal(out, greedy_by_recomputation(model, prompt, 6, 8))
    cached = model.generate(prompt, 1, top_k=1).data  # first token: prefill of the last 8
    np.testing.assert_array_equal(cached, out[:, :12])
    np.testing.assert_array_equal(cached[:, :11], prompt)


def test_decoder_does_one_position_per_step():
    model = make_model(max_seq_len=8)
    decoder = CachedDecoder(model, batch_size=2)
    sequence = np.random.default_rng(4).integers(0, 20, size=(2, 9))
    with no_grad():
        decoder.prefill(sequence[:, :5])
        assert [cache.length for cache in decoder.caches] == [5, 5]
        decoder.next_logits(sequence[:, :6])
        assert decoder.caches[0].length == 6
        decoder.next_logits(sequence[:, :7])
        decoder.next_logits(sequence[:, :8])
        assert decoder.caches[0].length == 8  # full
        logits = decoder.next_logits(sequence[:, :9])  # refill with the last 4
        assert decoder.caches[1].length == 4
        expected = model(sequence[:, 5:9]).data[:, -1]
    np.testing.assert_allclose(logits, expected, atol=1e-5)


def test_seeded_sampling_is_reproducible():
    model = make_model()
    prompt = np.array([[1, 2, 3], [4, 5, 6]])
    manual_seed(11)
    first = model.generate(prompt, 10, temperature=0.9, top_k=5).data
    manual_seed(11)
    second = model.generate(prompt, 10, temperature=0.9, top_k=5).data
    manual_seed(12)
    third = model.generate(prompt, 10, temperature=0.9, top_k=5).data
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, third)
    manual_seed(11)
    uncached = model.generate(prompt, 10, temperature=0.9, top_k=5, use_cache=False).data
    np.testing.assert_array_equal(uncached, first)


def test_top_k_restricts_the_choice():
    model = make_model()
    prompt = np.zeros((64, 1), dtype=np.int64)
    with no_grad():
        allowed = np.argsort(model(prompt[:1]).data[0, -1])[-3:]
    manual_seed(5)
    first = model.generate(prompt, 1, temperature=5.0, top_k=3).data[:, 1]
    assert set(first.tolist()) <= set(allowed.tolist())
    assert len(set(first.tolist())) > 1


def test_stream_yields_columns_and_generate_is_built_on_it():
    model = make_model()
    prompt = np.array([[3, 1], [2, 7]])
    manual_seed(6)
    columns = list(model.generate_stream(prompt, 5, temperature=1.0))
    manual_seed(6)
    full = model.generate(prompt, 5).data
    assert len(columns) == 5 and all(c.shape == (2,) and c.dtype == np.int64 for c in columns)
    np.testing.assert_array_equal(np.stack(columns, axis=1), full[:, 2:])


def test_modes_are_restored_and_no_graph_is_built():
    model = make_model(dropout=0.2)
    prompt = np.array([[1, 2]])
    model.generate(prompt, 3, top_k=1)
    assert model.training and all(m.training for m in model.modules())
    model.eval()
    stream = model.generate_stream(prompt, 3, top_k=1)
    next(stream)
    assert not model.training and is_grad_enabled()
    model.train()
    next(stream)  # the stream leaves the caller's modes alone between tokens
    assert model.training and all(m.training for m in model.modules()) and is_grad_enabled()
    assert all(p.grad is None for p in model.parameters())


def test_dropout_does_not_affect_generation():
    model = make_model(dropout=0.5)
    prompt = np.array([[1, 2, 3]])
    first = model.generate(prompt, 6, top_k=1).data
    np.testing.assert_array_equal(model.generate(prompt, 6, top_k=1).data, first)


def test_zero_new_tokens_returns_the_prompt():
    model = make_model()
    out = model.generate(np.array([[1, 2]], dtype=np.int32), 0)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, [[1, 2]])
    assert list(model.generate_stream(np.array([[1]]), 0)) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"temperature": 0.0}, ValueError, "temperature must be > 0, got 0; .*use top_k=1"),
        ({"temperature": -2.0}, ValueError, "temperature must be a finite number > 0"),
        ({"top_k": 0}, ValueError, r"top_k must be in \[1, vocab_size=20\], got 0"),
        ({"top_k": 21}, ValueError, r"top_k must be in \[1, vocab_size=20\], got 21"),
        ({"max_new_tokens": -1}, ValueError, "max_new_tokens must be >= 0, got -1"),
        ({"max_new_tokens": 2.0}, TypeError, "max_new_tokens must be an int"),
        ({"tokens": np.array([[0.5]])}, TypeError, "generate: tokens must be integer"),
        ({"tokens": np.array([1, 2])}, ValueError, r"generate: tokens must have shape \(B, T\)"),
        ({"tokens": np.array([[25]])}, IndexError, "token id 25 is out of range"),
        ({"use_cache": 1}, TypeError, "use_cache must be True or False"),
    ],
)
def test_bad_arguments_fail_at_the_call(kwargs, error, pattern):
    model = make_model()
    arguments = {"tokens": np.array([[1, 2]]), "max_new_tokens": 3, **kwargs}
    with pytest.raises(error, match=pattern):
        model.generate(**arguments)
    with pytest.raises(error, match=pattern):
        model.generate_stream(**arguments)  # checked at the call, before the first token


@pytest.mark.parametrize("use_cache", [True, False])
def test_generate_refuses_a_model_with_non_finite_weights(use_cache):
    manual_seed(0)
    model = GPT(vocab_size=11, embed_dim=8, num_layers=1, num_heads=2, max_seq_len=8)
    model.lm_head.weight.data[3, 0] = np.nan
    with pytest.raises(ValueError, match="logits of batch row 0 are not finite"):
        model.generate(np.array([[1, 2]]), 4, use_cache=use_cache)
