"""Gradient clipping by global norm, as in nanoGPT's training loop."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from gradstack.tensor import Tensor


def clip_grad_norm_(params: Iterable[Tensor] | Tensor, max_norm: float) -> float:
    """Scale all gradients in place so their joint L2 norm is at most ``max_norm``.

    The norm is ``sqrt(sum of g**2 over every element of every gradient)``; when it
    exceeds ``max_norm`` every gradient is multiplied by ``max_norm / (norm + 1e-6)``.
    Returns the norm before clipping (useful to log). Parameters without a gradient are
    skipped. A NaN or inf norm raises FloatingPointError before any gradient changes.
    """
    if max_norm <= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be > 0, got {max_norm}")
    items = [params] if isinstance(params, Tensor) else list(params)
    grads = [p.grad.data for p in items if p.grad is not None]
    # HINT: accumulate the sum of squares as a Python float: summed in float32 it can overflow
    # HINT: or lose digits over millions of elements. Scale in place (the parameters hold these
    # HINT: arrays) without turning a float32 gradient into float64.
    # BEGIN SOLUTION
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if not math.isfinite(total):
        raise FloatingPointError(
            f"clip_grad_norm_: the gradient norm is {total}; a NaN or inf reached the gradients"
        )
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for g in grads:
            g *= np.asarray(scale, dtype=g.dtype)
    # END SOLUTION
    return total
