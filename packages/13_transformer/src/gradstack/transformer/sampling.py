"""Choosing the next token from logits: temperature, top-k, inverse-CDF sampling.

Everything is vectorized over the batch: one uniform number per row from
``gradstack.tensor.default_generator()`` (so ``manual_seed`` makes sampling
reproducible) and a cumulative sum, no Python loop over rows.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from gradstack.tensor import default_generator


def check_sampling(temperature: float, top_k: int | None, vocab_size: int) -> None:
    """Validate the sampling settings at the call, naming the bad value."""
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"generate: temperature must be a number, got {temperature!r}")
    if temperature == 0:
        raise ValueError(
            "generate: temperature must be > 0, got 0; for greedy decoding use top_k=1 "
            "(it always picks the most likely token)"
        )
    if not (temperature > 0 and math.isfinite(temperature)):
        raise ValueError(f"generate: temperature must be a finite number > 0, got {temperature}")
    if top_k is None:
        return
    if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral):
        raise TypeError(f"generate: top_k must be an int or None, got {top_k!r}")
    if not 1 <= top_k <= vocab_size:
        raise ValueError(f"generate: top_k must be in [1, vocab_size={vocab_size}], got {top_k}")


def next_token_probabilities(
    logits: np.ndarray, temperature: float, top_k: int | None
) -> np.ndarray:
    """(B, V) logits -> (B, V) float64 probabilities after temperature and top-k."""
    scaled = logits.astype(np.float64)
    scaled -= scaled.max(axis=-1, keepdims=True)  # the best token sits at 0, the rest below
    with np.errstate(over="ignore"):  # a tiny temperature sends the rest to -inf: fine
        scaled /= temperature
    vocab_size = scaled.shape[-1]
    if top_k is not None and top_k < vocab_size:
        kth_largest = np.partition(scaled, vocab_size - top_k, axis=-1)[:, vocab_size - top_k]
        scaled[scaled < kth_largest[:, None]] = -np.inf  # ties with the k-th are kept
    probabilities = np.exp(scaled, out=scaled)
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    return probabilities


def sample_rows(probabilities: np.ndarray) -> np.ndarray:
    """One index per row of (B, V) probabilities by inverse CDF: returns (B,) int64.

    Row ``b`` draws ``u ~ U[0, total)`` and picks the first index whose cumulative
    probability exceeds ``u``; tokens of probability 0 are never picked.
    """
    cdf = np.cumsum(probabilities, axis=-1)  # (B, V)
    u = default_generator().random(cdf.shape[0]) * cdf[:, -1]  # (B,)
    index = np.sum(cdf <= u[:, None], axis=-1)  # (B,) first index with cdf > u
    last_possible = cdf.shape[-1] - 1 - np.argmax(probabilities[:, ::-1] > 0, axis=-1)
    return np.minimum(index, last_possible).astype(np.int64)


def check_finite_logits(logits: np.ndarray) -> None:
    """(B, V) logits: no NaN, no +inf, not all -inf (-inf alone masks a token); else ValueError."""
    top = logits.max(axis=-1)  # (B,): NaN if a NaN is in the row, +-inf as above
    finite = np.isfinite(top)
    if not finite.all():
        row = int(np.argmin(finite))
        raise ValueError(
            f"generate: the logits of batch row {row} are not finite (NaN or inf): the model's "
            "weights are damaged or its training diverged"
        )


def sample_next(logits: np.ndarray, temperature: float, top_k: int | None) -> np.ndarray:
    """(B, V) logits of the last position -> (B,) int64 sampled token ids.

    ``top_k=1`` is greedy decoding: the most likely token (the first of exact ties),
    without a random draw. Non-finite logits (a model whose weights hold NaN or inf) are a
    ValueError: sampling from them would print one token forever.
    """
    check_finite_logits(logits)
    if top_k == 1:
        return np.argmax(logits, axis=-1).astype(np.int64)
    return sample_rows(next_token_probabilities(logits, temperature, top_k))
