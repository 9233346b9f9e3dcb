"""Row standardization and the norm fold equal their plain formulas, unfolded, in float64.

The chain they replace is ``y = xhat * gamma + beta`` then ``out = y @ W.T + b``; each
test computes it step by step with NumPy and compares. Rows span several cache blocks
(``row_blocks``) so the block edges are covered.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.tensor import (
    fold_norm,
    folded_norm_grads,
    row_blocks,
    standardize_backward,
    standardize_rows,
)

EPS = 1e-5


def rows_and_params(rows: int = 700, width: int = 300, out: int = 7, seed: int = 0):
    """Rows with a mean and a spread per row, a gain, a shift, a weight and a bias."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, width)) * rng.uniform(0.5, 3.0, (rows, 1)) + 2.0
    gamma, beta = rng.standard_normal(width), rng.standard_normal(width)
    weight, bias = rng.standard_normal((out, width)), rng.standard_normal(out)
    return x, gamma, beta, weight, bias


def plain_standardize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """xhat and rstd the textbook way."""
    rstd = 1.0 / np.sqrt(x.var(axis=-1) + EPS)
    return (x - x.mean(axis=-1, keepdims=True)) * rstd[:, None], rstd


def test_the_rows_span_several_blocks():
    assert len(row_blocks(700, 300)) > 2


def test_standardize_rows_matches_the_formula():
    x = rows_and_params()[0]
    xhat, rstd = standardize_rows(x, EPS)
    want_xhat, want_rstd = plain_standardize(x)
    np.testing.assert_allclose(xhat, want_xhat, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rstd, want_rstd, rtol=1e-12)
    np.testing.assert_allclose(xhat.mean(axis=-1), 0.0, atol=1e-12)


def test_the_folded_product_equals_norm_then_product():
    x, gamma, beta, weight, bias = rows_and_params()
    xhat, _ = standardize_rows(x, EPS)
    folded_weight, folded_bias = fold_norm(weight, bias, gamma, beta)
    want = (xhat * gamma + beta) @ weight.T + bias
    np.testing.assert_allclose(xhat @ folded_weight.T + folded_bias, want, rtol=1e-12, atol=1e-11)
    _, no_bias = fold_norm(weight, None, gamma, beta)
    np.testing.assert_allclose(no_bias, weight @ beta, rtol=1e-12)


@pytest.mark.parametrize(
    "needs",
    [(True,) * 5, (True, False, True, False, True), (False, True, False, True, False)],
)
def test_folded_grads_equal_the_unfolded_chain(needs):
    x, gamma, beta, weight, bias = rows_and_params(seed=1)
    d_out = np.random.default_rng(2).standard_normal((x.shape[0], weight.shape[0]))
    xhat, rstd = standardize_rows(x, EPS)
    folded_weight, _ = fold_norm(weight, bias, gamma, beta)
    grads = folded_norm_grads(d_out, (xhat, rstd, folded_weight), weight, gamma, beta, needs)

    y = xhat * gamma + beta
    d_y = d_out @ weight
    d_xhat = d_y * gamma
    centred = d_xhat - d_xhat.mean(-1, keepdims=True)
    d_x = rstd[:, None] * (centred - xhat * (d_xhat * xhat).mean(-1, keepdims=True))
    wanted = [
        d_x,
        (d_y * xhat).sum(0),
        d_y.sum(0),
        d_out.T @ y,
        d_out.sum(0),
    ]
    for got, want, need in zip(grads, wanted, needs):
        if not need:
            assert got is None
            continue
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * scale)


def test_standardize_backward_writes_into_its_argument():
    x = rows_and_params(rows=5, width=4)[0]
    xhat, rstd = standardize_rows(x, EPS)
    d_xhat = np.ones_like(xhat)
    assert standardize_backward(d_xhat, xhat, rstd) is d_xhat
    np.testing.assert_allclose(d_xhat, 0.0, atol=1e-12)  # a constant shift has no gradient
