"""Gradient rules for the ops of module 04 (gradstack.losses).

Each loss op fuses its reduction, so each rule first turns the upstream gradient into a
per-element weight (``g`` for ``"sum"`` and ``"none"``, ``g / count`` for ``"mean"``)
and multiplies it into the analytic derivative of the per-element loss. Class-index
targets of cross-entropy are attributes and take no gradient; the float targets of MSE
and BCE are op inputs and get theirs when they require it.
"""

from __future__ import annotations

import numpy as np

from gradstack.activations.stable import sigmoid_from_exp_neg_abs
from gradstack.losses.elementwise_ops import clamped_logs
from gradstack.tensor import Node

from ..registry import register_rule

# PyTorch's floor for p (1 - p) in BCE's gradient, so p = 0 or 1 gives a finite slope.
BCE_GRAD_EPSILON = 1e-12


def _weight(g: np.ndarray, node: Node, count: int) -> np.ndarray:
    """Upstream gradient per element: ``g`` itself, or ``g / count`` for a mean."""
    if node.attrs["reduction"] == "mean":
        return g / max(count, 1)
    return g


@register_rule("mse_loss")
def mse_loss(g: np.ndarray, node: Node) -> tuple:
    """d (x - y)**2 = 2 (x - y) for the input, minus that for the target."""
    # HINT: grad = 2 diff * w, diff = node.saved and w = _weight(g, node, diff.size) (g, or
    # HINT: g / count for a mean); the input gets grad, the target -grad, each if needed.
    # BEGIN SOLUTION
    diff = node.saved
    need_input, need_target = node.needs_input_grad
    grad = diff * (2 * _weight(g, node, diff.size))
    return (grad if need_input else None), (-grad if need_target else None)
    # END SOLUTION


@register_rule("binary_cross_entropy")
def binary_cross_entropy(g: np.ndarray, node: Node) -> tuple:
    """d/dp = (p - y) / max(p (1 - p), 1e-12) (PyTorch's); d/dy = log(1 - p) - log p, clamped."""
    # HINT: w = _weight(g, node, p.size). Input: (p - y) / max(p (1 - p), BCE_GRAD_EPSILON) * w;
    # HINT: target: (log(1 - p) - log(p)) * w with the clamped logs of clamped_logs; if needed.
    # BEGIN SOLUTION
    p, y = node.inputs[0].data, node.inputs[1].data
    need_input, need_target = node.needs_input_grad
    weight = _weight(g, node, p.size)
    grad_input = grad_target = None
    if need_input:
        denominator = np.maximum(p * (1.0 - p), BCE_GRAD_EPSILON)
        grad_input = (p - y) / denominator * weight
    if need_target:
        log_p, log_q = clamped_logs(np.atleast_1d(p))
        log_q -= log_p
        grad_target = log_q.reshape(p.shape) * weight
    return grad_input, grad_target
    # END SOLUTION


@register_rule("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(g: np.ndarray, node: Node) -> tuple:
    """d/dx = sigmoid(x) - y, from the saved exp(-|x|); d/dy = -x."""
    # HINT: w = _weight(g, node, x.size). Input: (sigmoid(x) - y) * w, sigmoid from the saved
    # HINT: exp(-|x|) via sigmoid_from_exp_neg_abs; target: -x * w; each only if needed.
    # BEGIN SOLUTION
    x, y = node.inputs[0].data, node.inputs[1].data
    need_input, need_target = node.needs_input_grad
    weight = _weight(g, node, x.size)
    grad_input = grad_target = None
    if need_input:
        grad_input = sigmoid_from_exp_neg_abs(x, node.saved)
        grad_input -= y
        grad_input *= weight
    if need_target:
        grad_target = -x * weight
    return grad_input, grad_target
    # END SOLUTION


@register_rule("cross_entropy")
def cross_entropy(g: np.ndarray, node: Node) -> tuple:
    """d/dx = (softmax(x) - q) * w per row, q = (1 - eps) onehot(target) + eps / C.

    ``w`` is the row's weight (0 for ignored rows). The softmax is ``exp_shifted /
    sum_exp`` from the forward, so this is one multiply over the ``(N, C)`` array plus
    one subtraction at the N target entries; no one-hot matrix is built.
    """
    # HINT: per row (softmax - q) * w, q = (1 - eps) onehot(target) + eps / C, softmax =
    # HINT: saved.exp_shifted / saved.sum_exp[:, None]. w: g per row for 'none', else
    # HINT: _weight(g, node, saved.count), times saved.valid when rows are ignored (zeros for a
    # HINT: mean over no row). Subtract at the target entries only: no one-hot matrix.
    # BEGIN SOLUTION
    logits = node.inputs[0].data
    saved = node.saved
    rows, classes = saved.exp_shifted.shape
    reduction = node.attrs["reduction"]
    eps = node.attrs["label_smoothing"]
    if reduction == "mean" and saved.count == 0:
        return (np.zeros(logits.shape, dtype=g.dtype),)  # every target ignored: loss is NaN
    weight = g.reshape(rows) if reduction == "none" else _weight(g, node, saved.count)
    if saved.valid is not None:
        row_weight = weight * saved.valid  # (N,), 0 on ignored rows
    else:
        row_weight = np.broadcast_to(weight, (rows,))  # (N,)
    grad = saved.exp_shifted * (row_weight / saved.sum_exp)[:, None]  # (N, C) w softmax
    if eps:
        grad -= (eps / classes) * row_weight[:, None]
    grad[np.arange(rows), saved.target] -= (1.0 - eps) * row_weight
    return (grad.reshape(logits.shape),)
    # END SOLUTION
