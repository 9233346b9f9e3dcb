"""Gradient rules for the ops of gradstack.layers (module 03): the fused "linear" op.

``y = x @ W.T + b`` with ``x`` (..., in), ``W`` (out, in), ``b`` (out,). Batch dims are
folded into rows, so each gradient is one GEMM (or one column sum) over all
examples at once, never a batched product followed by a sum. Importing the op from
gradstack.layers registers it, so the rule never exists without its op.
"""

from __future__ import annotations

import numpy as np

from gradstack.layers.linear import linear_forward
from gradstack.tensor import Node
from gradstack.tensor.matvec_sums import sum_rows

from ..registry import register_rule


@register_rule(linear_forward.name)
def linear(g: np.ndarray, node: Node) -> tuple:
    """gx = g @ W; gW = g2dᵀ @ x2d; gb = g2d summed over rows."""
    # HINT: fold batch dims into rows, g (..., out) -> g2d (N, out): gx = g2d @ W back in x's
    # HINT: shape, gW = g2d^T @ x2d (x as (N, in)), gb = g2d summed over rows (sum_rows, from
    # HINT: gradstack.tensor.matvec_sums); each only if needed; two gradients without a bias
    # HINT: input, three with one.
    # BEGIN SOLUTION
    x = node.inputs[0].data
    weight = node.inputs[1].data
    needs = node.needs_input_grad
    out_features, in_features = weight.shape
    g2d = g.reshape(-1, out_features)  # (..., out) -> (N, out), N = product of batch dims
    gx = gw = gb = None
    if needs[0]:
        gx = (g2d @ weight).reshape(x.shape)  # (N, out) @ (out, in) -> (N, in) -> (..., in)
    if needs[1]:
        x2d = x.reshape(-1, in_features)  # (..., in) -> (N, in)
        gw = g2d.T @ x2d  # (out, N) @ (N, in) -> (out, in)
    if len(needs) == 3 and needs[2]:
        gb = sum_rows(g2d)  # (N, out) -> (out,), a matrix-vector product
    return (gx, gw) if len(needs) == 2 else (gx, gw, gb)
    # END SOLUTION
