"""Gradient rules for the ops of module 04 (gradstack.losses).

Each loss op fuses its reduction, so each rule first turns the upstream gradient into a
per-element weight (``g`` for ``"sum"`` and ``"none"``, ``g / count`` for ``"mean"``)
and multiplies it into the analytic derivative of the per-element loss. Class-index
targets of cross-entropy are attributes and take no gradient; the float targets of MSE
and BCE are op inputs and get theirs when they require it.
"""

from __future__ import annotations

import numpy as np

from gradstack.activations import stable_sigmoid
from gradstack.losses import clamped_logs
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
def mse_loss_backward(g: np.ndarray, node: Node) -> tuple:
    """d (x - y)**2 = 2 (x - y) for the input, minus that for the target."""
    # HINT: _weight turns g into the per-element weight (divided by the count for a mean);
    # HINT: return None for an input that does not need its gradient.
    # BEGIN SOLUTION
    diff = node.saved  # x - y
    need_input, need_target = node.needs_input_grad
    grad = 2.0 * diff * _weight(g, node, diff.size)
    return (grad if need_input else None), (-grad if need_target else None)
    # END SOLUTION


@register_rule("binary_cross_entropy")
def binary_cross_entropy_backward(g: np.ndarray, node: Node) -> tuple:
    """d/dp = (p - y) / max(p (1 - p), 1e-12) (PyTorch's); d/dy = log(1 - p) - log p, clamped."""
    # HINT: at p = 0 or 1 the exact p (1 - p) is 0: the floor BCE_GRAD_EPSILON keeps the slope
    # HINT: finite. The target's gradient uses the same clamped logs as the forward.
    # BEGIN SOLUTION
    p, y = node.inputs[0].data, node.inputs[1].data
    need_input, need_target = node.needs_input_grad
    weight = _weight(g, node, p.size)
    grad_input = grad_target = None
    if need_input:
        grad_input = (p - y) / np.maximum(p * (1.0 - p), BCE_GRAD_EPSILON) * weight
    if need_target:
        log_p, log_q = clamped_logs(p)
        grad_target = (log_q - log_p) * weight
    return grad_input, grad_target
    # END SOLUTION


@register_rule("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits_backward(g: np.ndarray, node: Node) -> tuple:
    """d/dx = sigmoid(x) - y; d/dy = -x."""
    # HINT: the sigmoid must be the stable one (stable_sigmoid): the logits can be huge.
    # BEGIN SOLUTION
    x, y = node.inputs[0].data, node.inputs[1].data
    need_input, need_target = node.needs_input_grad
    weight = _weight(g, node, x.size)
    grad_input = (stable_sigmoid(x) - y) * weight if need_input else None
    grad_target = -x * weight if need_target else None
    return grad_input, grad_target
    # END SOLUTION


@register_rule("cross_entropy")
def cross_entropy_backward(g: np.ndarray, node: Node) -> tuple:
    """d/dx = (softmax(x) - q) * w per row, q = (1 - eps) onehot(target) + eps / C.

    ``w`` is the row's weight: g per row for ``"none"``, else ``_weight`` (g, or g / count
    for a mean), and 0 for ignored rows. ``softmax`` is the saved ``probs`` (N, C).
    """
    # HINT: no one-hot matrix is needed: subtract at the N target entries only (integer array
    # HINT: indexing with np.arange(N) and the targets), on a copy, never on the saved probs:
    # HINT: a second backward (retain_graph=True) reads them again. A mean over no valid row
    # HINT: has a zero gradient.
    # BEGIN SOLUTION
    logits = node.inputs[0].data
    saved = node.saved
    rows, classes = saved.probs.shape
    reduction = node.attrs["reduction"]
    eps = node.attrs["label_smoothing"]
    if reduction == "mean" and saved.count == 0:
        return (np.zeros(logits.shape, dtype=g.dtype),)  # every target ignored: loss is NaN
    weight = g.reshape(rows) if reduction == "none" else _weight(g, node, saved.count)
    row_weight = np.broadcast_to(weight, (rows,))  # (N,)
    if saved.valid is not None:
        row_weight = row_weight * saved.valid  # 0 on ignored rows
    grad = saved.probs - eps / classes  # (N, C) softmax minus q's uniform part (a new array)
    grad[np.arange(rows), saved.target] -= 1.0 - eps  # minus q's one-hot part
    grad = grad * row_weight[:, None]  # (N, C) * (N, 1)
    return (grad.reshape(logits.shape),)
    # END SOLUTION
