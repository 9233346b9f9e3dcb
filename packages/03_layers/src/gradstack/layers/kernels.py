"""Kernels of module 03: the "linear" op with batch dims folded into rows.

The reference computes ``x @ weight.T + bias`` on (..., in) inputs directly. NumPy may run
a batched (3-D @ 2-D) product as one small GEMM per batch entry, so this kernel folds the
batch dims into rows first: one 2-D GEMM forward, the bias added in place, and backward
one GEMM per weight/input gradient and the bias gradient as a matrix-vector product with
a vector of ones (gradstack.tensor.matvec_sums), faster than NumPy's column sum on short
rows. The results agree with the reference to rounding (tests/test_kernels*.py of
gradstack-autograd); bench/README.md has the figures.
"""

from __future__ import annotations

import numpy as np

from gradstack.tensor import Node, register_kernel, sum_rows

from .linear import _check_linear


def linear_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None
) -> tuple[np.ndarray, None]:
    """``x @ weight.T + bias`` as one 2-D GEMM over all batch positions."""
    _check_linear(x, weight, bias)
    rows = x.reshape(-1, x.shape[-1])  # (..., in) -> (N, in)
    out = np.matmul(rows, weight.T).reshape(x.shape[:-1] + (weight.shape[0],))  # (..., out)
    if bias is not None:
        out += bias
    return out, None


def linear_backward(g: np.ndarray, node: Node) -> tuple:
    """gx = g @ W, gW = g2dᵀ @ x2d, gb = the row sum of g2d, each one BLAS call."""
    x = node.inputs[0].data
    weight = node.inputs[1].data
    needs = node.needs_input_grad
    out_features, in_features = weight.shape
    g2d = g.reshape(-1, out_features)  # (..., out) -> (N, out)
    gx = gw = gb = None
    if needs[0]:
        gx = (g2d @ weight).reshape(x.shape)  # (N, out) @ (out, in) -> (N, in) -> (..., in)
    if needs[1]:
        gw = g2d.T @ x.reshape(-1, in_features)  # (out, N) @ (N, in) -> (out, in)
    if len(needs) == 3 and needs[2]:
        gb = sum_rows(g2d)  # (N, out) -> (out,), a matrix-vector product
    return (gx, gw) if len(needs) == 2 else (gx, gw, gb)


register_kernel("linear", linear_forward, linear_backward)
