"""Cross-entropy as one fused op: log-softmax and negative log-likelihood together.

Logits are ``(..., C)`` with the classes in the LAST dim (gradstack's convention; note
that PyTorch puts C at dim 1 for inputs with more than two dims) and targets are
integer class indices of shape ``(...)``. Both are flattened to ``(N, C)`` and ``(N,)``
views, so a GPT's ``(B, T, V)`` logits are handled exactly like ``(N, C)``.

Per row, with ``z = x - max(x)`` and ``lse = log(sum(exp(z)))``:

    nll      = lse - z[target]
    smoothed = (1 - eps) nll + eps (lse - mean(z))     (label smoothing eps, PyTorch's)

Rows whose target is ``ignore_index`` contribute 0, and the mean divides by the number of
rows that are not ignored. The forward saves the softmax for the gradient rule, which is
``(softmax - smoothed one-hot) * weight`` per row.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gradstack.tensor import register_op

from .reduction import reduce_losses


class CrossEntropySaved(NamedTuple):
    """What the gradient rule needs."""

    probs: np.ndarray  # (N, C): softmax of each row of logits
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
def cross_entropy_op(
    logits: np.ndarray,
    *,
    target: np.ndarray,
    ignore_index: int,
    label_smoothing: float,
    reduction: str,
) -> tuple[np.ndarray, CrossEntropySaved]:
    """Softmax cross-entropy of ``(..., C)`` logits and ``(...)`` targets, overflow-free.

    Per row: ``-log softmax(x)[target]``, or with label smoothing eps
    ``-sum(q log softmax(x))`` for ``q = (1 - eps) onehot(target) + eps / C``; reduced.
    """
    classes = logits.shape[-1]
    x = logits.reshape(-1, classes)  # (N, C): one row of class scores per target
    flat_target = target.reshape(-1)  # (N,)
    valid = _valid_rows(flat_target, ignore_index, classes)
    safe_target = flat_target if valid is None else np.where(valid, flat_target, 0)

    # HINT: never log(softmax(x)): softmax underflows to 0 and its log is -inf. Subtract each
    # HINT: row's max first; log_softmax = z - log(sum(exp(z))) then needs no other care.
    # HINT: Leave losses (N,) (0 on ignored rows) and probs (N, C) for the lines below.
    # BEGIN SOLUTION
    z = x - np.max(x, axis=1, keepdims=True)  # (N, C), each row's max is 0
    log_probs = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))  # (N, C) log softmax
    losses = -log_probs[np.arange(x.shape[0]), safe_target]  # (N,) -log p[target]
    if label_smoothing:  # against (1 - eps) onehot + eps / C
        losses = (1.0 - label_smoothing) * losses - label_smoothing * log_probs.mean(axis=1)
    if valid is not None:
        losses = losses * valid  # ignored rows contribute 0
    probs = np.exp(log_probs)  # (N, C) softmax, for the rule
    # END SOLUTION
    count = x.shape[0] if valid is None else int(np.count_nonzero(valid))
    out = reduce_losses(losses.reshape(target.shape), reduction, count)
    return out, CrossEntropySaved(probs, safe_target, valid, count)
