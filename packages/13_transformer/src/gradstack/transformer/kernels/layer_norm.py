"""The layer-norm kernel: the reference's formulas on rows, in place, means as products.

x is viewed as rows (R, N), one per normalized slice, so every statistic is per row and
the per-row means are matrix-vector products with a constant vector
(``gradstack.tensor.matvec_sums``: ~3 us instead of ~15 us for NumPy's short-row
reductions on a (512, 64) array). The forward works in the one (R, N) array it makes;
the rule folds gamma into the two row means of dx (mean(gx) = g @ (gamma / N),
mean(gx · xhat) = (g · xhat) @ (gamma / N)) and reuses the g · xhat buffer for the
correction term. tests/test_kernels_layer_norm.py checks it against the reference.
"""

from __future__ import annotations

import math

import numpy as np

from gradstack.tensor import Node, mean_last, register_kernel, sum_rows


def layer_norm_kernel(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, *, ndim: int, eps: float
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The reference's y, computed on rows; saves (xhat (R, N), rstd (R,))."""
    count = math.prod(x.shape[x.ndim - ndim :])
    rows = x.reshape(-1, count)  # (..., *normalized) -> (R, N)
    xhat = rows - mean_last(rows)[:, None]  # (R, N), centred
    rstd = mean_last(np.square(xhat))  # (R,) biased variance
    rstd += eps
    np.sqrt(rstd, out=rstd)
    np.reciprocal(rstd, out=rstd)
    xhat *= rstd[:, None]
    out = xhat * gamma.reshape(-1)
    out += beta.reshape(-1)
    return out.reshape(x.shape), (xhat, rstd)  # (R, N) -> x's shape


def layer_norm_kernel_rule(g: np.ndarray, node: Node) -> tuple:
    """Gradients of x, gamma and beta from the kernel's saved rows (in place)."""
    xhat, rstd = node.saved
    gamma = node.inputs[1].data
    need_x, need_gamma, need_beta = node.needs_input_grad
    rows = g.reshape(xhat.shape)  # (..., *normalized) -> (R, N)
    g_xhat = rows * xhat if (need_x or need_gamma) else None
    grad_gamma = sum_rows(g_xhat).reshape(gamma.shape) if need_gamma else None
    grad_beta = sum_rows(rows).reshape(gamma.shape) if need_beta else None
    grad_x = None
    if need_x:
        flat_gamma = gamma.reshape(-1)
        gamma_mean = flat_gamma / flat_gamma.dtype.type(flat_gamma.size)  # (N,)
        projection = g_xhat @ gamma_mean  # (R,) mean(gx * xhat)
        centre = rows @ gamma_mean  # (R,) mean(gx)
        correction = np.multiply(xhat, projection[:, None], out=g_xhat)  # reuses g_xhat
        correction += centre[:, None]  # mean(gx) + xhat mean(gx xhat)
        grad_x = rows * flat_gamma  # gx, (R, N)
        grad_x -= correction
        grad_x *= rstd[:, None]
        grad_x = grad_x.reshape(g.shape)  # (R, N) -> x's shape
    return grad_x, grad_gamma, grad_beta


register_kernel("layer_norm", layer_norm_kernel, layer_norm_kernel_rule)
