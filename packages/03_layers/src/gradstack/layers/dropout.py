"""Inverted dropout, built from tensor ops so gradients flow through the existing "mul" op."""

from __future__ import annotations

import numpy as np

from gradstack.tensor import Tensor, check_probability, default_generator

from .module import Module


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    An element is kept where one float32 uniform draw of x's shape from
    ``default_generator()`` (the generator ``manual_seed`` seeds) is below ``1 - p``; the
    output is ``x * keep / (1 - p)`` with ``keep / (1 - p)`` a constant Tensor in x's
    floating dtype (float32 for integer x), so the gradient flows through ``mul`` and is
    exactly ``keep / (1 - p)``. Outside training, or with ``p == 0``, ``x`` itself is returned.
    """
    p = check_probability("dropout", "p", p)
    if not isinstance(x, Tensor):
        raise TypeError(f"dropout: input must be a Tensor, got {type(x).__name__}")
    if not training or p == 0.0:
        return x
    # HINT: draw exactly as described (one float32 draw of x's shape, compared with 1 - p): the
    # HINT: tests replay the seeded generator and expect the same mask. Scaling at training time
    # HINT: (inverted dropout) is what makes eval mode the identity.
    # BEGIN SOLUTION
    keep = default_generator().random(x.shape, dtype=np.float32) < 1.0 - p
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    scale = keep.astype(dtype) / dtype.type(1.0 - p)
    return x * Tensor(scale, dtype=dtype)
    # END SOLUTION


class Dropout(Module):
    """Randomly zero elements while training (inverted dropout); identity in eval mode."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = check_probability("Dropout", "p", p)

    def forward(self, x: Tensor) -> Tensor:
        """Apply dropout when ``self.training``, else return ``x`` unchanged."""
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
