"""Losses computed element by element, then reduced: MSE and the two binary cross-entropies.

Each op takes ``(input, target)`` of the same shape (checked by the caller) and a
``reduction`` attribute; the reduction is fused into the op, so a loss is one node.
The target is an op input, so a target that requires grad gets its gradient too.
0-d operands are viewed as 1-d while computing (NumPy returns scalars, not arrays, from
ufuncs on 0-d arrays) and the results reshaped back.
"""

from __future__ import annotations

import numpy as np

from gradstack.activations.stable import exp_neg_abs
from gradstack.tensor import register_op

from .reduction import reduce_losses

# PyTorch clamps BCE's logs at -100, so p = 0 or 1 gives a finite loss of at most 100.
BCE_LOG_FLOOR = -100.0


@register_op("mse_loss")
def mse_loss(
    input: np.ndarray, target: np.ndarray, *, reduction: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(input - target)**2``, reduced; saves the difference for the gradient ``2 diff``."""
    # HINT: diff = input - target (on np.atleast_1d views: 0-d inputs give arrays); the losses
    # HINT: are diff**2 in input's shape, reduced with reduce_losses; save diff (the rule: 2 diff).
    # BEGIN SOLUTION
    diff = np.subtract(*np.atleast_1d(input, target))
    losses = np.square(diff).reshape(input.shape)
    return reduce_losses(losses, reduction), diff.reshape(input.shape)
    # END SOLUTION


def clamped_logs(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log(p)`` and ``log(1 - p)`` (new arrays, p at least 1-d), clamped below at -100."""
    # HINT: log(p) and log(1 - p) (np.log1p(-p) is exact for small p), each clamped below at
    # HINT: BCE_LOG_FLOOR in place, so p = 0 or 1 gives -100, not -inf (ignore divide warnings).
    # BEGIN SOLUTION
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
        log_q = np.log1p(-p)
    np.maximum(log_p, BCE_LOG_FLOOR, out=log_p)
    np.maximum(log_q, BCE_LOG_FLOOR, out=log_q)
    return log_p, log_q
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
def binary_cross_entropy(
    input: np.ndarray, target: np.ndarray, *, reduction: str
) -> tuple[np.ndarray, None]:
    """``-(y log p + (1 - y) log(1 - p))`` with both logs clamped at -100, reduced."""
    check_probabilities(input)
    # HINT: per element -(y log p + (1 - y) log(1 - p)) with the clamped logs of clamped_logs(p),
    # HINT: on np.atleast_1d views; reshape to input's shape, reduce with reduce_losses.
    # BEGIN SOLUTION
    p, y = np.atleast_1d(input, target)
    log_p, log_q = clamped_logs(p)
    losses = np.subtract(y, 1.0)
    losses *= log_q
    log_p *= y
    losses -= log_p  # (y - 1) log(1 - p) - y log p
    return reduce_losses(losses.reshape(input.shape), reduction), None
    # END SOLUTION


@register_op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(
    input: np.ndarray, target: np.ndarray, *, reduction: str
) -> tuple[np.ndarray, np.ndarray]:
    """``max(x, 0) - x y + log1p(exp(-|x|))``: BCE of ``sigmoid(x)``, stable for any x.

    Saves ``exp(-|x|)``, from which the rule gets ``sigmoid(x)`` without another exp.
    """
    # HINT: with e = exp_neg_abs(x) = exp(-|x|): loss = max(x, 0) - x y + log1p(e), stable for any
    # HINT: x; reduce with reduce_losses and save e (the rule gets sigmoid(x) from it).
    # BEGIN SOLUTION
    x, y = np.atleast_1d(input, target)
    e = exp_neg_abs(x)
    losses = np.log1p(e)
    losses -= x * y
    losses += np.maximum(x, 0)
    return reduce_losses(losses.reshape(input.shape), reduction), e.reshape(input.shape)
    # END SOLUTION
