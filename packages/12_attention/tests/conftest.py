"""Shared test helpers: plain NumPy attention in float64, written for clarity."""

from types import SimpleNamespace

import numpy as np
import pytest


def attention(q, k, v, allowed=None, scale=None):
    """softmax(q kᵀ scale, masked) @ v; a query with no allowed key gives zeros."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if allowed is None:
        allowed = np.ones(scores.shape, dtype=bool)
    allowed = np.broadcast_to(allowed, scores.shape)
    shifted = np.where(allowed, scores, -np.inf)
    peak = np.max(np.where(allowed, scores, -1e300), axis=-1, keepdims=True)
    weights = np.where(allowed, np.exp(np.where(allowed, shifted - peak, 0.0)), 0.0)
    total = weights.sum(axis=-1, keepdims=True)
    probs = weights / np.where(total == 0, 1.0, total)
    return probs @ v, probs


def bottom_right_causal(q_len, k_len):
    """True where query i may attend key j: j <= i + k_len - q_len."""
    i = np.arange(q_len)[:, None]
    j = np.arange(k_len)[None, :]
    return j <= i + (k_len - q_len)


@pytest.fixture
def ref():
    """The NumPy reference functions (``ref.attention``, ``ref.bottom_right_causal``)."""
    return SimpleNamespace(attention=attention, bottom_right_causal=bottom_right_causal)


@pytest.fixture
def qkv():
    """Make float64 q, k, v tensors that require grad: ``qkv((2, 3), 4, 5, d=3, dv=2)``."""
    from gradstack.tensor import Tensor

    def make(batch, q_len, k_len, d=3, dv=None, seed=0, k_batch=None):
        rng = np.random.default_rng(seed)
        kb = batch if k_batch is None else k_batch
        arrays = (
            rng.standard_normal(batch + (q_len, d)),
            rng.standard_normal(kb + (k_len, d)),
            rng.standard_normal(kb + (k_len, dv or d)),
        )
        return [Tensor(a, dtype="float64", requires_grad=True) for a in arrays]

    return make
