"""Linear layer ``y = x @ W.T + b``, computed by one op, "linear".

One op rather than a matmul, a transpose and an add: the graph records one node, and the
gradient rule (gradstack.autograd's rules/layers.py) gives all three gradients at once.
"""

from __future__ import annotations

import math

import numpy as np

from gradstack.tensor import (
    Tensor,
    apply,
    check_positive_int,
    default_generator,
    register_op,
)

from .module import Module
from .parameter import Parameter


def _check_linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> None:
    """Fail at the call, naming the shapes, unless ``x @ weight.T + bias`` is well formed."""
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not match weight of shape {weight.shape}: "
            f"the input's last dim must equal in_features={weight.shape[1]}"
        )
    if x.dtype.kind != "f":
        raise TypeError(f"linear: input must be floating point, got dtype {x.dtype}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(
            f"linear: bias of shape {bias.shape} does not match weight of shape "
            f"{weight.shape}: expected ({weight.shape[0]},)"
        )


@register_op("linear")
def linear_op(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None
) -> tuple[np.ndarray, None]:
    """``x @ weight.T + bias`` on arrays: x (..., in), weight (out, in), bias (out,) or None.

    Returns ``(out, None)`` with out (..., out): the rule needs only the inputs.
    """
    _check_linear(x, weight, bias)
    # HINT: weight is stored (out, in), as in PyTorch, so it is transposed in the product;
    # HINT: the batch dims of x ride along. Do not add into the product's array if it could
    # HINT: be a view of an input. Test: tox -e 03_layers -- -k linear
    # BEGIN SOLUTION
    out = x @ weight.T  # (..., in) @ (in, out) -> (..., out)
    if bias is not None:
        out = out + bias  # (out,) broadcasts over the batch dims
    return out, None
    # END SOLUTION


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` for x (..., in), weight (out, in), bias (out,) or None."""
    for name, value in (("input", x), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"linear: {name} must be a Tensor, got {type(value).__name__}")
    if bias is None:
        return apply(linear_op, x, weight)
    if not isinstance(bias, Tensor):
        raise TypeError(f"linear: bias must be a Tensor or None, got {type(bias).__name__}")
    return apply(linear_op, x, weight, bias)


def _uniform(shape: tuple[int, ...], bound: float) -> np.ndarray:
    """float32 samples in [-bound, bound) from the generator ``manual_seed`` seeds."""
    draws = default_generator().random(shape, dtype=np.float32)
    return draws * np.float32(2 * bound) - np.float32(bound)


class Linear(Module):
    """Affine map ``y = x @ W.T + b`` with ``weight`` (out, in) and ``bias`` (out,) or None.

    Initialised as in PyTorch: both uniform in ``[-1/sqrt(in), 1/sqrt(in)]``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = check_positive_int("Linear", "in_features", in_features)
        self.out_features = check_positive_int("Linear", "out_features", out_features)
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = Parameter(_uniform((self.out_features, self.in_features), bound))
        self.bias = Parameter(_uniform((self.out_features,), bound)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        """Apply the layer to the last dim of ``x``."""
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
