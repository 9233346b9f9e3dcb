"""Kernels of module 04: cross-entropy on one (N, C) temporary, with matrix-vector row sums.

The reference builds the log-softmax, picks the targets and saves the softmax. For a
GPT's (B*T, V) logits that is several (N, V) arrays per step; this kernel makes one:
``z = x - max(x)`` is formed once, the target entries are picked from it, then it is
exponentiated in place and kept, with its row sums, for the gradient, which folds the
softmax's division into the per-row weights (one multiply over the (N, C) array plus a
subtraction at the N targets). Row sums and means are matrix-vector products with a
vector of ones (gradstack.tensor.matvec_sums), faster than NumPy's reductions on many
short rows. Tested equal to the reference, to rounding (tests/test_kernels*.py of
gradstack-autograd).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gradstack.activations import shift_by_max
from gradstack.tensor import Node, mean_last, register_kernel, sum_last

from .cross_entropy_op import _valid_rows
from .reduction import reduce_losses


class FusedCrossEntropySaved(NamedTuple):
    """What the kernel's gradient needs; ``probs`` is the softmax, as the reference saves."""

    exp_shifted: np.ndarray  # (N, C): exp(x - max(x)) per row
    sum_exp: np.ndarray  # (N,): its row sums
    target: np.ndarray  # (N,): class indices, ignored rows replaced by 0
    valid: np.ndarray | None  # (N,) bool: rows not ignored; None when none is ignored
    count: int  # number of rows not ignored

    @property
    def probs(self) -> np.ndarray:
        """The softmax (N, C), computed on demand (the kernel itself never needs it)."""
        return self.exp_shifted / self.sum_exp[:, None]


def cross_entropy_forward(
    logits: np.ndarray,
    *,
    target: np.ndarray,
    ignore_index: int,
    label_smoothing: float,
    reduction: str,
) -> tuple[np.ndarray, FusedCrossEntropySaved]:
    """The reference's cross-entropy op on one (N, C) temporary."""
    classes = logits.shape[-1]
    x = logits.reshape(-1, classes)  # (N, C)
    flat_target = target.reshape(-1)  # (N,)
    valid = _valid_rows(flat_target, ignore_index, classes)
    safe_target = flat_target if valid is None else np.where(valid, flat_target, 0)
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
    count = x.shape[0] if valid is None else int(np.count_nonzero(valid))
    out = reduce_losses(losses.reshape(target.shape), reduction, count)
    return out, FusedCrossEntropySaved(z, sum_exp, safe_target, valid, count)


def cross_entropy_backward(g: np.ndarray, node: Node) -> tuple[np.ndarray]:
    """(softmax - q) * w per row, with softmax = exp_shifted / sum_exp folded into w."""
    logits = node.inputs[0].data
    saved = node.saved
    rows, classes = saved.exp_shifted.shape
    reduction = node.attrs["reduction"]
    eps = node.attrs["label_smoothing"]
    if reduction == "mean" and saved.count == 0:
        return (np.zeros(logits.shape, dtype=g.dtype),)  # every target ignored: loss is NaN
    if reduction == "none":
        weight = g.reshape(rows)
    elif reduction == "mean":
        weight = g / saved.count
    else:
        weight = g
    if saved.valid is not None:
        row_weight = weight * saved.valid  # (N,), 0 on ignored rows
    else:
        row_weight = np.broadcast_to(weight, (rows,))  # (N,)
    grad = saved.exp_shifted * (row_weight / saved.sum_exp)[:, None]  # (N, C) w softmax
    if eps:
        grad -= (eps / classes) * row_weight[:, None]
    grad[np.arange(rows), saved.target] -= (1.0 - eps) * row_weight
    return (grad.reshape(logits.shape),)


register_kernel("cross_entropy", cross_entropy_forward, cross_entropy_backward)
