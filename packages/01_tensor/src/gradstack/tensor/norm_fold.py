"""Row standardization, and a norm's gain and shift folded into the product after it.

Helpers for kernels (layer norm's, and the nodes that fuse a layer norm with the product
it feeds). In a GPT block each LayerNorm feeds a product straight away (``ln1`` the q, k,
v projections, ``ln2`` the MLP's first Linear). Its gain and shift can ride in that product:

    (xhat * gamma + beta) @ W.T + b  =  xhat @ (W * gamma).T + (W @ beta + b)

so such a node standardizes the rows (xhat, the only large array it saves), scales the small
weight instead of the large activations, and skips the two passes that apply gamma and beta.
The backward mirrors it: the product with the folded weight gives the gradient of xhat
directly (g @ (W * gamma) = (g @ W) * gamma), and the gradients of W, b, gamma and beta
come from the small (out, C) product gᵀ @ xhat and the column sums of g:

    dW = (gᵀ xhat) * gamma + outer(Σ g, beta)     db = Σ g
    dgamma = Σ_out W * (gᵀ xhat)                  dbeta = (Σ g) @ W

On (1024, 128) rows this makes layer norm's share of a forward and backward 440 -> 265 us
(bench/README.md). tests/test_norm_fold.py checks these against plain formulas and
float64 finite differences; gradstack-transformer's tests/test_kernels_norm_fold.py checks
the nodes against the modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .cache_blocking import row_blocks
from .matvec_sums import mean_last, sum_rows


def normalize_rows(rows: np.ndarray, xhat: np.ndarray, rstd: np.ndarray, eps: float) -> None:
    """``xhat = (rows - mean) * rstd`` and ``rstd = 1 / sqrt(var + eps)`` for a block of rows."""
    np.subtract(rows, mean_last(rows)[:, None], out=xhat)  # (r, N), centred
    np.add(mean_last(np.square(xhat)), eps, out=rstd)  # (r,) biased variance + eps
    np.sqrt(rstd, out=rstd)
    np.reciprocal(rstd, out=rstd)
    xhat *= rstd[:, None]


def standardize_rows(rows: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(xhat, rstd) of rows (R, C): each row centred and scaled to unit variance."""
    xhat = np.empty_like(rows)
    rstd = np.empty(rows.shape[0], dtype=rows.dtype)
    for block in row_blocks(*rows.shape):
        normalize_rows(rows[block], xhat[block], rstd[block], eps)
    return xhat, rstd


def fold_norm(
    weight: np.ndarray, bias: np.ndarray | None, gamma: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The product's weight and bias with the norm's gain and shift folded in."""
    folded_bias = weight @ beta  # (out, C) @ (C,) -> (out,)
    if bias is not None:
        folded_bias += bias
    return weight * gamma, folded_bias  # (out, C) scaled column by column


def standardize_backward(d_xhat: np.ndarray, xhat: np.ndarray, rstd: np.ndarray) -> np.ndarray:
    """The rows' gradient from xhat's, in place: rstd (d - mean(d) - xhat mean(d xhat))."""
    for block in row_blocks(*d_xhat.shape):
        d, xhat_rows = d_xhat[block], xhat[block]
        centre = mean_last(d)  # (r,)
        correction = xhat_rows * mean_last(d * xhat_rows)[:, None]  # (r, C)
        correction += centre[:, None]
        d -= correction
        d *= rstd[block][:, None]
    return d_xhat


def folded_norm_grads(
    d_out: np.ndarray,
    saved: tuple[np.ndarray, np.ndarray, np.ndarray],
    weight: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    needs: tuple[bool, bool, bool, bool, bool],
) -> tuple[Any, Any, Any, Any, Any]:
    """Gradients of (rows, gamma, beta, weight, bias) from the product's d_out (R, out)."""
    xhat, rstd, folded_weight = saved
    need_x, need_gamma, need_beta, need_weight, need_bias = needs
    d_rows = d_gamma = d_beta = d_weight = d_bias = None
    if need_x:
        d_xhat = d_out @ folded_weight  # (R, out) @ (out, C) -> (R, C)
        d_rows = standardize_backward(d_xhat, xhat, rstd)
    column_sums = sum_rows(d_out) if (need_beta or need_weight or need_bias) else None  # (out,)
    if need_gamma or need_weight:
        d_folded = d_out.T @ xhat  # (out, R) @ (R, C) -> (out, C)
        if need_gamma:
            d_gamma = sum_rows(weight * d_folded)  # (C,)
        if need_weight:
            d_weight = d_folded * gamma
            d_weight += np.multiply.outer(column_sums, beta)
    if need_beta:
        d_beta = column_sums @ weight  # (out,) @ (out, C) -> (C,)
    if need_bias:
        d_bias = column_sums
    return d_rows, d_gamma, d_beta, d_weight, d_bias
