"""LayerNorm: the module around the ``layer_norm`` op."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gradstack.layers import Module, Parameter
from gradstack.tensor import Tensor

from .layer_norm import layer_norm, normalize_shape


class LayerNorm(Module):
    """Normalize over the trailing ``normalized_shape`` dims, then scale and shift.

    ``gamma`` starts at ones and ``beta`` at zeros, so a fresh LayerNorm only
    standardizes. The variance is the biased one and ``eps`` is added inside the
    square root, as in PyTorch.
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5) -> None:
        super().__init__()
        self.normalized_shape = normalize_shape(normalized_shape)
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps}")
        self.eps = float(eps)
        self.gamma = Parameter(np.ones(self.normalized_shape, dtype=np.float32))
        self.beta = Parameter(np.zeros(self.normalized_shape, dtype=np.float32))

    def forward(self, x: Tensor) -> Tensor:
        """Apply the ``layer_norm`` op; the input must end with the normalized shape."""
        return layer_norm(x, self.normalized_shape, self.gamma, self.beta, self.eps)

    def extra_repr(self) -> str:
        """Shown inside ``LayerNorm(...)``."""
        return f"{self.normalized_shape}, eps={self.eps}"
