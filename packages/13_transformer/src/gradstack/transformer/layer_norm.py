"""The fused ``layer_norm`` op: forward, its analytic gradient rule, and the function.

Layer norm over the last ``k`` dims, with ``N`` the number of normalized elements:

    xhat = (x - mean(x)) * rstd,   rstd = 1 / sqrt(var(x) + eps)   (biased variance)
    y    = xhat * gamma + beta

Composed from elementary ops this would be about ten graph nodes and as many
full-size temporaries; fused it is one node that saves ``xhat`` and ``rstd``. With
``gx = g * gamma`` the gradient of the input is

    dx = rstd * (gx - mean(gx) - xhat * mean(gx * xhat))

and ``dgamma = sum(g * xhat)``, ``dbeta = sum(g)`` over the leading dims.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gradstack.autograd import register_rule
from gradstack.tensor import Node, Tensor, apply, register_op
from gradstack.tensor.matvec_sums import mean_last, sum_rows


@register_op("layer_norm")
def layer_norm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, *, ndim: int, eps: float
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Normalize over the last ``ndim`` dims, then scale and shift; saves (xhat, rstd).

    The work is done on rows: x viewed as (R, N), one row per normalized slice, so the
    per-row statistics are matrix-vector products (gradstack.tensor.matvec_sums).
    """
    # HINT: view x as rows (R, N), N the product of the last ndim dims; per row, mean and
    # HINT: biased variance (mean_last from gradstack.tensor.matvec_sums), rstd = 1 / sqrt(var +
    # HINT: eps), xhat = (x - mean) * rstd, out = xhat * gamma + beta (gamma, beta flattened).
    # HINT: Save (xhat (R, N), rstd (R,)) for the rule; reuse arrays in place where you can.
    # BEGIN SOLUTION
    count = math.prod(x.shape[x.ndim - ndim :])
    rows = x.reshape(-1, count)  # (..., *normalized) -> (R, N)
    xhat = rows - mean_last(rows)[:, None]  # (R, N), centered
    rstd = mean_last(np.square(xhat))  # (R,) biased variance
    rstd += eps
    np.sqrt(rstd, out=rstd)
    np.reciprocal(rstd, out=rstd)
    xhat *= rstd[:, None]
    out = xhat * gamma.reshape(-1)
    out += beta.reshape(-1)
    return out.reshape(x.shape), (xhat, rstd)  # (R, N) -> x's shape
    # END SOLUTION


@register_rule("layer_norm")
def layer_norm_rule(g: np.ndarray, node: Node) -> tuple:
    """Gradients of x, gamma and beta from the saved xhat and rstd (on rows, in place)."""
    # HINT: with (xhat (R, N), rstd (R,)) = node.saved, g as rows (R, N) and gx = g * gamma:
    # HINT: dgamma = sum of g * xhat over rows and dbeta = sum of g over rows (sum_rows), in
    # HINT: gamma's shape; dx = rstd * (gx - mean(gx) - xhat * mean(gx * xhat)). The two means
    # HINT: per row are matrix-vector products with gamma / N: mean(gx) = g @ (gamma / N) and
    # HINT: mean(gx * xhat) = (g * xhat) @ (gamma / N). Reshape dx to x's shape. Each gradient
    # HINT: only when node.needs_input_grad says so (else None).
    # BEGIN SOLUTION
    xhat, rstd = node.saved
    gamma = node.inputs[1].data
    need_x, need_gamma, need_beta = node.needs_input_grad
    rows = g.reshape(xhat.shape)  # (..., *normalized) -> (R, N)
    g_xhat = rows * xhat if (need_x or need_gamma) else None
    grad_gamma = sum_rows(g_xhat).reshape(gamma.shape) if need_gamma else None
    grad_beta = sum_rows(rows).reshape(gamma.shape) if need_beta else None
    grad_x = None
    if need_x:
        flat_gamma = gamma.reshape(-1)
        gamma_mean = flat_gamma / flat_gamma.dtype.type(flat_gamma.size)  # (N,)
        projection = g_xhat @ gamma_mean  # (R,) mean(gx * xhat)
        centre = rows @ gamma_mean  # (R,) mean(gx)
        np.multiply(xhat, projection[:, None], out=g_xhat)
        g_xhat += centre[:, None]
        grad_x = rows * flat_gamma  # gx, (R, N)
        grad_x -= g_xhat
        grad_x *= rstd[:, None]
        grad_x = grad_x.reshape(g.shape)  # (R, N) -> x's shape
    return grad_x, grad_gamma, grad_beta
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
    shape; the whole computation is the single fused op ``layer_norm``.
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
    return apply(layer_norm_forward, x, gamma, beta, ndim=len(shape), eps=float(eps))


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
