"""Self-attention whose layer norm rides in the q, k, v product: one node, ``ln1`` to heads.

A pre-norm transformer block normalizes its input before the q, k and v projections.
The node ``layer_norm_self_attention`` standardizes the rows, folds the norm's gain and
shift into the stacked (3C, C) projection weight (``gradstack.tensor.fold_norm``), and
runs the fused heads of ``fused_heads.py`` on the product; its rule takes the stacked
rows' gradient from ``stacked_grads`` and hands it to ``gradstack.tensor.folded_norm_grads``.
gradstack-transformer's block kernel applies it by name; its
tests/test_kernels_norm_fold.py checks every value and gradient against the block's
modules, and against float64 finite differences.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstack.autograd import register_rule
from gradstack.tensor import Node, fold_norm, folded_norm_grads, register_op, standardize_rows

from .fused_heads import attend_stacked, stacked_grads

OP = "layer_norm_self_attention"


def _grouped_needs(node: Node) -> tuple[bool, bool, bool, bool, bool]:
    """needs_input_grad of x, gamma and beta, then whether any weight, any bias needs one."""
    needs = node.needs_input_grad
    return (*needs[:3], any(needs[3:6]), any(needs[6:9]))


@register_op(OP)
def layer_norm_self_attention_op(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    wq: np.ndarray,
    wk: np.ndarray,
    wv: np.ndarray,
    bq: np.ndarray,
    bk: np.ndarray,
    bv: np.ndarray,
    *,
    eps: float,
    num_heads: int,
    is_causal: bool,
    dropout_p: float,
) -> tuple[np.ndarray, tuple]:
    """Merged heads (B, T, C) of self-attention over the q, k, v projections of layer_norm(x)."""
    batch, length, _ = x.shape
    xhat, rstd = standardize_rows(x.reshape(-1, x.shape[-1]), eps)  # (N, C), (N,)
    weight = np.concatenate((wq, wk, wv))  # 3 x (C, C) -> (3C, C)
    folded_weight, folded_bias = fold_norm(weight, np.concatenate((bq, bk, bv)), gamma, beta)
    stacked = xhat @ folded_weight.T  # (N, C) @ (C, 3C) -> (N, 3C)
    stacked += folded_bias
    merged, attention = attend_stacked(stacked, batch, length, num_heads, is_causal, dropout_p)
    return merged, ((xhat, rstd, folded_weight), weight, stacked, attention)


@register_rule(OP)
def layer_norm_self_attention_backward(g: np.ndarray, node: Node) -> tuple[Any, ...]:
    """Gradients of x, gamma, beta and the six projection parameters."""
    x, gamma, beta = (t.data for t in node.inputs[:3])
    folded, weight, stacked, attention = node.saved
    attrs = node.attrs
    d_stacked = stacked_grads(g, stacked, attention, attrs["num_heads"], attrs["dropout_p"])
    needs = _grouped_needs(node)
    d_rows, d_gamma, d_beta, d_weight, d_bias = folded_norm_grads(
        d_stacked, folded, weight, gamma, beta, needs
    )
    width = x.shape[-1]
    thirds = [slice(i * width, (i + 1) * width) for i in range(3)]  # q, k, v rows of (3C, ...)
    weights = [None if d_weight is None else d_weight[part] for part in thirds]
    biases = [None if d_bias is None else d_bias[part] for part in thirds]
    projections = [
        grad if need else None for grad, need in zip(weights + biases, node.needs_input_grad[3:])
    ]
    d_x = None if d_rows is None else d_rows.reshape(x.shape)
    return (d_x, d_gamma, d_beta, *projections)
