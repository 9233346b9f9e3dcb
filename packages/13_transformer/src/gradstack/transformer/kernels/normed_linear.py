"""The MLP's way in with its layer norm folded into the product: one node for ``linear(ln2(x))``.

``layer_norm_linear`` standardizes the rows, folds the norm's gain and shift into the
Linear's weight and bias (``gradstack.tensor.fold_norm``) and makes one product; its rule
hands the product's gradient to ``gradstack.tensor.folded_norm_grads``. The block kernel
(``fused_block.py``) uses it; tests/test_kernels_norm_fold.py checks it against the
modules and float64 finite differences.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstack.autograd import register_rule
from gradstack.tensor import Node, fold_norm, folded_norm_grads, register_op, standardize_rows

OP = "layer_norm_linear"


@register_op(OP)
def layer_norm_linear_op(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    *,
    eps: float,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``layer_norm(x) @ weight.T + bias`` over the last axis: (..., C) -> (..., out)."""
    xhat, rstd = standardize_rows(x.reshape(-1, x.shape[-1]), eps)  # (R, C), (R,)
    folded_weight, folded_bias = fold_norm(weight, bias, gamma, beta)
    out = xhat @ folded_weight.T  # (R, C) @ (C, out) -> (R, out)
    out += folded_bias
    return out.reshape(x.shape[:-1] + (weight.shape[0],)), (xhat, rstd, folded_weight)


@register_rule(OP)
def layer_norm_linear_backward(g: np.ndarray, node: Node) -> tuple[Any, ...]:
    """Gradients of x, gamma, beta, weight and bias."""
    x, gamma, beta, weight, _ = (t.data for t in node.inputs)
    d_out = g.reshape(-1, weight.shape[0])  # (..., out) -> (R, out)
    d_rows, *rest = folded_norm_grads(d_out, node.saved, weight, gamma, beta, node.needs_input_grad)
    return (None if d_rows is None else d_rows.reshape(x.shape), *rest)
