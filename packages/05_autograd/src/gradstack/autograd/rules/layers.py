"""Gradient rules for the ops of gradstack.layers (module 03): the "linear" op.

``y = x @ W.T + b`` with ``x`` (..., in), ``W`` (out, in), ``b`` (out,). The rule is keyed
by the op's name, like every rule here; gradstack-autograd depends on gradstack-layers, whose
import registers the op.
"""

from __future__ import annotations

import numpy as np

from gradstack.tensor import Node

from ..registry import register_rule


@register_rule("linear")
def linear_backward(g: np.ndarray, node: Node) -> tuple:
    """With g = dL/dy (..., out): gx = g @ W (..., in); gW = sum over every batch position of
    gᵀ x, (out, in); gb = g summed over every batch position, (out,).

    Returns (gx, gW) without a bias input, (gx, gW, gb) with one; None where not needed.
    """
    # HINT: gW and gb sum over all batch dims: view g as (N, out) and x as (N, in), N the
    # HINT: number of batch positions, and each becomes one product or one sum over rows.
    # HINT: Check the shapes against W (out, in) and b (out,). Test: tox -e 05_autograd -- -k linear
    # BEGIN SOLUTION
    x, weight = node.inputs[0].data, node.inputs[1].data
    needs = node.needs_input_grad
    g2d = g.reshape(-1, g.shape[-1])  # (..., out) -> (N, out)
    gx = g @ weight if needs[0] else None  # (..., out) @ (out, in) -> (..., in)
    gw = g2d.T @ x.reshape(-1, x.shape[-1]) if needs[1] else None  # (out, N) @ (N, in)
    if len(needs) == 2:
        return gx, gw
    gb = g2d.sum(axis=0) if needs[2] else None  # (N, out) -> (out,)
    return gx, gw, gb
    # END SOLUTION
