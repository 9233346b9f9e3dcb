"""Kernels of module 02: GELU's forward and derivative, fused and in place.

The reference (ops.py, and the rule in gradstack-autograd) computes GELU from its
definition. This kernel computes the same function with fewer passes over the array and
fewer temporaries, the hot path of every transformer MLP:

- forward (tanh form): ``K x (1 + C x**2)`` in place instead of ``K (x + C x**3)`` on
  the clipped x, with the overflow of the polynomial for huge |x| silenced by
  ``np.errstate`` instead of clipping x (tanh of +-inf is +-1, as it already is from
  |x| = 10 on); then ``(1 + t) / 2 * x`` in place, halving first so nothing overflows;
- derivative (tanh form): ``(1 + t) (1/2 + x/2 K (1 + 3 C x**2) (1 - t))``, which uses
  ``1 - t**2 = (1 + t) (1 - t)`` and needs nine passes instead of eleven, on x clipped
  to +-10 (there ``1 - t`` or ``1 + t`` is exactly 0 and x**2 stays finite);
- the exact form is ``Phi(x) + x phi(x)`` accumulated in place.

Both are tested equal to the reference (tests/test_kernels*.py of gradstack-autograd).
"""

from __future__ import annotations

import numpy as np

from gradstack.tensor import Node, register_kernel

from .ops import GELU_APPROXIMATIONS
from .special import GELU_TANH_C, GELU_TANH_K, GELU_TANH_SATURATION, normal_cdf, normal_pdf


def _tanh_term(x: np.ndarray) -> np.ndarray:
    """``tanh(K x (1 + C x**2))`` as a new array (x at least 1-d)."""
    with np.errstate(over="ignore"):  # |x| > ~1e13: the polynomial is +-inf, tanh is +-1
        inner = x * x
        inner *= GELU_TANH_C * GELU_TANH_K
        inner += GELU_TANH_K
        inner *= x  # K x (1 + C x**2)
    return np.tanh(inner, out=inner)


def gelu_forward(a: np.ndarray, *, approximate: str) -> tuple[np.ndarray, np.ndarray]:
    """The reference's ``gelu`` op, fused: saves the tanh term or ``Phi(x)`` as it does."""
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(
            f"gelu: approximate must be one of {GELU_APPROXIMATIONS}, got {approximate!r}"
        )
    x = np.atleast_1d(a)  # 0-d viewed as 1-d: NumPy then returns arrays, not scalars
    if approximate == "tanh":
        saved = _tanh_term(x)
        out = saved + 1.0
        out *= 0.5  # halve before scaling by x: (1 + t) x could overflow at float max
        out *= x
    else:
        saved = normal_cdf(x)
        out = x * saved
    return out.reshape(a.shape), saved.reshape(a.shape)


def _tanh_derivative(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``(1 + t) (1/2 + x/2 K (1 + 3 C x**2) (1 - t))`` (x, t at least 1-d)."""
    xc = np.clip(x, -GELU_TANH_SATURATION, GELU_TANH_SATURATION)
    slope = xc * xc
    slope *= 1.5 * GELU_TANH_C * GELU_TANH_K
    slope += 0.5 * GELU_TANH_K
    slope *= xc  # x/2 K (1 + 3 C x**2)
    factor = np.subtract(1.0, t, out=xc)  # 1 - t, reusing the clipped copy
    slope *= factor
    slope += 0.5
    np.add(t, 1.0, out=factor)  # 1 + t
    slope *= factor
    return slope


def gelu_backward(g: np.ndarray, node: Node) -> tuple[np.ndarray]:
    """d gelu(x) from what ``gelu_forward`` saved, in place."""
    x, saved = np.atleast_1d(node.inputs[0].data, node.saved)
    if node.attrs["approximate"] == "tanh":
        grad = _tanh_derivative(x, saved)
    else:
        grad = normal_pdf(x)
        grad *= x
        grad += saved  # Phi(x) + x phi(x)
    grad *= np.atleast_1d(g)
    return (grad.reshape(g.shape),)


register_kernel("gelu", gelu_forward, gelu_backward)
