"""Gradient clipping by global norm, as in nanoGPT's training loop."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from gradstack.tensor import Tensor


def clip_grad_norm_(params: Iterable[Tensor] | Tensor, max_norm: float) -> float:
    """Scale all gradients in place so their joint L2 norm is at most ``max_norm``.

    Returns the norm before clipping (useful to log). Parameters without a gradient
    are skipped.
    """
    if max_norm <= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be > 0, got {max_norm}")
    items = [params] if isinstance(params, Tensor) else list(params)
    grads = [p.grad.data for p in items if p.grad is not None]
    # HINT: the global L2 norm: sqrt of the sum over every gradient array of its squares.
    # BEGIN SOLUTION
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    # END SOLUTION
    if not math.isfinite(total):
        raise FloatingPointError(
            f"clip_grad_norm_: the gradient norm is {total}; a NaN or inf reached the gradients"
        )
    # HINT: scale = max_norm / (total + 1e-6); when it is below 1, multiply every gradient
    # HINT: by it in place (keep each gradient's dtype). Return the norm before clipping.
    # BEGIN SOLUTION
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for g in grads:
            g *= np.asarray(scale, dtype=g.dtype)
    # END SOLUTION
    return total
