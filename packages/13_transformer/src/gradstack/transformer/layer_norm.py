"""The ``layer_norm`` op: forward, its gradient rule, and the function (the reference).

Layer norm over the last ``ndim`` dims (the normalized axes), N elements each:

    mean = mean(x),  var = mean((x - mean)²)       biased variance, per normalized slice
    xhat = (x - mean) / sqrt(var + eps)
    y    = xhat · gamma + beta

Composed from elementary ops this would be about ten graph nodes and as many
full-size temporaries; as one op it is one node that saves ``xhat`` and
``rstd = 1 / sqrt(var + eps)``. With ``gx = g · gamma`` the gradients are

    dx     = rstd · (gx - mean(gx) - xhat · mean(gx · xhat))
    dgamma = Σ g · xhat,   dbeta = Σ g          over the leading (batch) dims

This file is the formula; the tuned kernel of the same op (on rows, in place, means as
matrix-vector products), checked equal to it by tests/test_kernels_layer_norm.py, is in
``kernels/layer_norm.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gradstack.autograd import register_rule
from gradstack.tensor import Node, Tensor, apply, register_op


def normalized_axes(ndim: int) -> tuple[int, ...]:
    """The last ``ndim`` axes, counted from the end: (-ndim, ..., -1)."""
    return tuple(range(-ndim, 0))


@register_op("layer_norm")
def layer_norm_op(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, *, ndim: int, eps: float
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """y = xhat · gamma + beta over the last ``ndim`` dims; saves (xhat, rstd) for the rule."""
    # HINT: reduce over normalized_axes(ndim) with keepdims=True, so the statistics
    # HINT: (..., 1, ..., 1) broadcast back against x; gamma and beta have the normalized
    # HINT: shape and broadcast as they are. eps goes inside the square root.
    # BEGIN SOLUTION
    axes = normalized_axes(ndim)
    mean = np.mean(x, axis=axes, keepdims=True)  # (..., 1): one mean per normalized slice
    centred = x - mean  # x's shape
    var = np.mean(centred * centred, axis=axes, keepdims=True)  # (..., 1), biased
    rstd = 1.0 / np.sqrt(var + eps)  # (..., 1)
    xhat = centred * rstd  # x's shape, mean 0 and variance 1 per slice
    return xhat * gamma + beta, (xhat, rstd)
    # END SOLUTION


@register_rule("layer_norm")
def layer_norm_backward(g: np.ndarray, node: Node) -> tuple:
    """Gradients (dx, dgamma, dbeta) from g (x's shape) and the saved (xhat, rstd)."""
    # HINT: the engine sums a gradient over the dims its input was broadcast along, so the
    # HINT: gamma and beta gradients may keep x's shape. In dx, both means are over the
    # HINT: normalized axes with keepdims=True, like the forward's statistics.
    # BEGIN SOLUTION
    xhat, rstd = node.saved
    gamma = node.inputs[1].data
    axes = normalized_axes(node.attrs["ndim"])
    gx = g * gamma  # x's shape
    mean_gx = np.mean(gx, axis=axes, keepdims=True)  # (..., 1)
    mean_gx_xhat = np.mean(gx * xhat, axis=axes, keepdims=True)  # (..., 1)
    dx = rstd * (gx - mean_gx - xhat * mean_gx_xhat)
    return dx, g * xhat, g  # dgamma, dbeta: summed to gamma's shape by the engine
    # END SOLUTION


def _check_shape(what: str, tensor: Tensor, shape: tuple[int, ...], x: Tensor) -> None:
    """Gamma and beta must have exactly the normalized shape."""
    if tensor.shape != shape:
        raise ValueError(
            f"layer_norm: {what} has shape {tensor.shape}, expected the normalized shape "
            f"{shape} of input {x.shape}"
        )


def layer_norm(
    x: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer norm over the trailing ``normalized_shape`` dims (PyTorch's signature).

    ``weight`` (gamma) and ``bias`` (beta) default to ones and zeros of the normalized
    shape; the whole computation is the one op ``layer_norm``.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"layer_norm: expects a Tensor, got {type(x).__name__}")
    shape = normalize_shape(normalized_shape)
    if x.dtype.kind != "f":
        raise TypeError(f"layer_norm: input must be floating point, got dtype {x.dtype}")
    if x.shape[x.ndim - len(shape) :] != shape or x.ndim < len(shape):
        raise ValueError(
            f"layer_norm: input of shape {x.shape} does not end with the normalized shape {shape}"
        )
    if not eps > 0:
        raise ValueError(f"layer_norm: eps must be positive, got {eps}")
    gamma = Tensor(np.ones(shape, dtype=x.dtype)) if weight is None else weight
    beta = Tensor(np.zeros(shape, dtype=x.dtype)) if bias is None else bias
    _check_shape("weight (gamma)", gamma, shape, x)
    _check_shape("bias (beta)", beta, shape, x)
    return apply(layer_norm_op, x, gamma, beta, ndim=len(shape), eps=float(eps))


def normalize_shape(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    """Accept an int or a sequence of positive ints, as PyTorch does."""
    if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
        shape: tuple = (int(normalized_shape),)
    elif isinstance(normalized_shape, (tuple, list)):
        shape = tuple(normalized_shape)
    else:
        raise TypeError(
            f"layer_norm: normalized_shape must be an int or a sequence of ints, "
            f"got {normalized_shape!r}"
        )
    if not shape or not all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in shape
    ):
        raise ValueError(
            f"layer_norm: normalized_shape must be positive ints, got {normalized_shape!r}"
        )
    return tuple(int(s) for s in shape)
