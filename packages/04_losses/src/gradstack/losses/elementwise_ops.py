"""Losses computed element by element, then reduced: MSE and the two binary cross-entropies.

Each op takes ``(input, target)`` of the same shape (checked by the caller) and a
``reduction`` attribute; the reduction is fused into the op, so a loss is one node.
The target is an op input, so a target that requires grad gets its gradient too.
"""

from __future__ import annotations

import numpy as np

from gradstack.activations import exp_neg_abs
from gradstack.tensor import register_op

from .reduction import reduce_losses

# PyTorch clamps BCE's logs at -100, so p = 0 or 1 gives a finite loss of at most 100.
BCE_LOG_FLOOR = -100.0


@register_op("mse_loss")
def mse_loss_op(
    input: np.ndarray, target: np.ndarray, *, reduction: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(input - target)**2``, reduced; saves the difference for the gradient ``2 diff``."""
    # HINT: reduce_losses (reduction.py) does the reduction; the rule needs the difference.
    # BEGIN SOLUTION
    diff = input - target
    return reduce_losses(diff * diff, reduction), diff
    # END SOLUTION


def clamped_logs(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log(p)`` and ``log(1 - p)``, each clamped below at ``BCE_LOG_FLOOR`` (-100)."""
    # HINT: log(0) is -inf with a divide warning: silence that one warning, then clamp, so
    # HINT: p = 0 or 1 gives a loss of 100, not inf (PyTorch's choice). log(1 - p) loses the
    # HINT: digits of a tiny p; np.log1p(-p) keeps them.
    # BEGIN SOLUTION
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped below
        log_p = np.log(p)
        log_q = np.log1p(-p)  # log(1 - p)
    return np.maximum(log_p, BCE_LOG_FLOOR), np.maximum(log_q, BCE_LOG_FLOOR)
    # END SOLUTION


def check_probabilities(p: np.ndarray) -> None:
    """BCE's input must lie in [0, 1]; say which values do not (PyTorch checks this too)."""
    if p.size and not (p.min() >= 0 and p.max() <= 1):
        outside = p[~((p >= 0) & (p <= 1))]
        raise ValueError(
            f"binary_cross_entropy: input must hold probabilities in [0, 1], got "
            f"{outside.size} value(s) outside, e.g. {outside.flat[0]}; for logits use "
            "binary_cross_entropy_with_logits"
        )


@register_op("binary_cross_entropy")
def binary_cross_entropy_op(
    input: np.ndarray, target: np.ndarray, *, reduction: str
) -> tuple[np.ndarray, None]:
    """``-(y log p + (1 - y) log(1 - p))`` with both logs clamped at -100, reduced."""
    check_probabilities(input)
    # HINT: use clamped_logs, never bare logs: one p of exactly 0 or 1 would make the loss inf.
    # BEGIN SOLUTION
    log_p, log_q = clamped_logs(input)
    losses = -(target * log_p + (1.0 - target) * log_q)
    return reduce_losses(losses, reduction), None
    # END SOLUTION


@register_op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits_op(
    input: np.ndarray, target: np.ndarray, *, reduction: str
) -> tuple[np.ndarray, None]:
    """``max(x, 0) - x y + log1p(exp(-|x|))``: BCE of ``sigmoid(x)``, stable for any x."""
    # HINT: derive the formula from -(y log s + (1 - y) log(1 - s)), s = sigmoid(x): neither
    # HINT: exp(x) nor exp(-x) may appear (one of them overflows), only exp(-|x|) (exp_neg_abs).
    # BEGIN SOLUTION
    x, y = input, target
    losses = np.maximum(x, 0) - x * y + np.log1p(exp_neg_abs(x))
    return reduce_losses(losses, reduction), None
    # END SOLUTION
