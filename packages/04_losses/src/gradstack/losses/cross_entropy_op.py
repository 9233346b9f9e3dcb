"""Cross-entropy as one fused op: log-softmax and negative log-likelihood together.

Logits are ``(..., C)`` with the classes in the LAST dim (gradstack's convention; note
that PyTorch puts C at dim 1 for inputs with more than two dims) and targets are
integer class indices of shape ``(...)``. Both are flattened to ``(N, C)`` and ``(N,)``
views, so a GPT's ``(B, T, V)`` logits are handled exactly like ``(N, C)``.

Per row, with ``z = x - max(x)`` and ``lse = log(sum(exp(z)))``:

    nll      = lse - z[target]
    smoothed = (1 - eps) nll + eps (lse - mean(z))     (label smoothing eps, PyTorch's)

Rows whose target is ``ignore_index`` contribute 0, and the mean divides by the number of
rows that are not ignored. The forward works on one ``(N, C)`` temporary: ``z`` is made
once, the target entries are picked from it, then it is exponentiated in place and kept
for the gradient rule, which is ``(softmax - smoothed one-hot) * weight`` per row.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gradstack.activations.stable import shift_by_max
from gradstack.tensor import register_op
from gradstack.tensor.matvec_sums import mean_last, sum_last

from .reduction import reduce_losses


class CrossEntropySaved(NamedTuple):
    """What the gradient rule needs; ``softmax = exp_shifted / sum_exp[:, None]``."""

    exp_shifted: np.ndarray  # (N, C): exp(x - max(x)) per row
    sum_exp: np.ndarray  # (N,): its row sums
    target: np.ndarray  # (N,): class indices, ignored rows replaced by 0
    valid: np.ndarray | None  # (N,) bool: rows not ignored; None when none is ignored
    count: int  # number of rows not ignored


def _valid_rows(target: np.ndarray, ignore_index: int, classes: int) -> np.ndarray | None:
    """Mask of the rows whose target is not ``ignore_index`` (None: all of them).

    Raises a ValueError naming the first target that is neither a class nor ignored.
    """
    ignored = target == ignore_index
    valid = None if not ignored.any() else ~ignored
    if target.size and (target.min() < 0 or target.max() >= classes):
        bad = (target < 0) | (target >= classes)
        if valid is not None:
            bad &= valid
        if bad.any():
            value = target[np.argmax(bad)]
            raise ValueError(
                f"cross_entropy: target value {value} is out of range for {classes} classes "
                f"(expected 0 <= target < {classes}, or ignore_index={ignore_index})"
            )
    return valid


@register_op("cross_entropy")
def cross_entropy(
    logits: np.ndarray,
    *,
    target: np.ndarray,
    ignore_index: int,
    label_smoothing: float,
    reduction: str,
) -> tuple[np.ndarray, CrossEntropySaved]:
    """Fused, overflow-free softmax cross-entropy of ``(..., C)`` logits and ``(...)`` targets."""
    classes = logits.shape[-1]
    x = logits.reshape(-1, classes)  # (N, C): one row of class scores per target
    flat_target = target.reshape(-1)  # (N,)
    valid = _valid_rows(flat_target, ignore_index, classes)
    safe_target = flat_target if valid is None else np.where(valid, flat_target, 0)

    # HINT: per row of x (N, C): z = shift_by_max(x, axis=1); pick z[target] (np.take_along_axis
    # HINT: with safe_target); z becomes exp(z) in place (kept for the rule), sum_exp its row sums
    # HINT: (N,) (sum_last, from gradstack.tensor.matvec_sums), lse = log(sum_exp); nll = lse -
    # HINT: z[target]. Label smoothing eps: losses = (1 - eps) nll + eps (lse - mean(z)) with
    # HINT: mean(z) taken before the exp. Rows not valid (ignore_index) get 0. Leave losses (N,),
    # HINT: z and sum_exp for the lines below.
    # BEGIN SOLUTION
    z = shift_by_max(x, axis=1)  # (N, C), row max is 0
    picked = np.take_along_axis(z, safe_target[:, None], axis=1)[:, 0]  # (N,) z[target]
    mean_z = mean_last(z) if label_smoothing else None  # (N,)
    with np.errstate(under="ignore"):
        np.exp(z, out=z)
    sum_exp = sum_last(z)  # (N,), >= 1
    lse = np.log(sum_exp)
    losses = lse - picked
    if label_smoothing:
        losses *= 1.0 - label_smoothing
        lse -= mean_z
        lse *= label_smoothing
        losses += lse
    if valid is not None:
        losses *= valid
    # END SOLUTION
    count = x.shape[0] if valid is None else int(np.count_nonzero(valid))
    out = reduce_losses(losses.reshape(target.shape), reduction, count)
    return out, CrossEntropySaved(z, sum_exp, safe_target, valid, count)
