"""Next-token sampling: temperature, top-k, inverse CDF, validation, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.tensor import default_generator, manual_seed
from gradstack.transformer.sampling import check_sampling, next_token_probabilities, sample_next


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def test_probabilities_with_temperature_and_top_k():
    logits = np.array([[1.0, 3.0, 2.0, 0.0], [0.5, 0.5, -1.0, 4.0]], dtype=np.float32)
    np.testing.assert_allclose(next_token_probabilities(logits, 1.0, None), softmax(logits))
    np.testing.assert_allclose(next_token_probabilities(logits, 2.0, None), softmax(logits / 2))
    top2 = next_token_probabilities(logits, 1.0, 2)
    pair = softmax(np.array([3.0, 2.0]))
    np.testing.assert_allclose(top2[0], [0.0, pair[0], pair[1], 0.0], rtol=1e-12)
    assert (top2[1] > 0).sum() == 3  # the tie at 0.5 keeps both tied tokens
    greedy = next_token_probabilities(logits, 1.0, 1)
    np.testing.assert_array_equal(greedy, np.eye(4)[[1, 3]])


def test_tiny_temperature_is_greedy_without_warnings():
    logits = np.random.default_rng(0).standard_normal((5, 11)).astype(np.float32)
    manual_seed(0)
    np.testing.assert_array_equal(sample_next(logits, 1e-300, None), logits.argmax(axis=-1))


def test_sampling_follows_the_distribution():
    manual_seed(1)
    logits = np.log(np.array([[0.1, 0.0001, 0.5, 0.3999]]))
    draws = sample_next(np.repeat(logits, 200_000, axis=0), 1.0, None)
    assert draws.dtype == np.int64 and draws.shape == (200_000,)
    frequencies = np.bincount(draws, minlength=4) / draws.size
    np.testing.assert_allclose(frequencies, [0.1, 0.0001, 0.5, 0.3999], atol=4e-3)


def test_zero_probability_tokens_are_never_drawn():
    manual_seed(2)
    logits = np.array([[5.0, -np.inf, 1.0, -np.inf]] * 1000)
    draws = sample_next(logits, 0.5, 2)
    assert set(np.unique(draws)) <= {0, 2}


def test_seeded_sampling_is_reproducible_and_rows_are_independent():
    logits = np.zeros((6, 50), dtype=np.float32)
    manual_seed(7)
    first = sample_next(logits, 1.0, None)
    manual_seed(7)
    np.testing.assert_array_equal(sample_next(logits, 1.0, None), first)
    assert len(set(first.tolist())) > 1


@pytest.mark.parametrize(
    ("temperature", "top_k", "error", "pattern"),
    [
        (0, None, ValueError, "temperature must be > 0, got 0; for greedy decoding use top_k=1"),
        (-1.0, None, ValueError, "temperature must be a finite number > 0, got -1.0"),
        (float("inf"), None, ValueError, "temperature must be a finite number > 0"),
        (float("nan"), None, ValueError, "temperature must be a finite number > 0"),
        ("hot", None, TypeError, "temperature must be a number"),
        (1.0, 0, ValueError, r"top_k must be in \[1, vocab_size=10\], got 0"),
        (1.0, 11, ValueError, r"top_k must be in \[1, vocab_size=10\], got 11"),
        (1.0, 2.5, TypeError, "top_k must be an int or None"),
        (1.0, True, TypeError, "top_k must be an int or None"),
    ],
)
def test_bad_settings_are_errors(temperature, top_k, error, pattern):
    with pytest.raises(error, match=pattern):
        check_sampling(temperature, top_k, 10)


def test_good_settings_pass():
    check_sampling(0.7, None, 10)
    check_sampling(1, 1, 10)
    check_sampling(2.0, np.int64(10), 10)


def test_top_k_1_is_argmax_without_a_draw():
    """Greedy decoding picks the first maximal logit and leaves the generator alone."""
    manual_seed(3)
    before = default_generator().bit_generator.state
    logits = np.array([[0.1, 2.0, 2.0, -1.0], [5.0, 0.0, 1.0, 4.9]])
    np.testing.assert_array_equal(sample_next(logits, 0.7, top_k=1), [1, 0])
    assert default_generator().bit_generator.state == before


@pytest.mark.parametrize("bad", [[np.nan], [np.inf], [-np.inf] * 5])
def test_non_finite_logits_are_refused(bad):
    logits = np.zeros((3, 5))
    logits[1, : len(bad)] = bad
    with pytest.raises(ValueError, match="logits of batch row 1 are not finite"):
        sample_next(logits, 1.0, None)
    with pytest.raises(ValueError, match="not finite"):
        sample_next(logits, 1.0, 1)
