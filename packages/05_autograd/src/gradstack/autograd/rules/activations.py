"""Gradient rules for the ops of module 02 (gradstack.activations).

Every rule is the analytic derivative of the fused forward, written with what the
forward saved (softmax and sigmoid their output, log-softmax its log-probabilities,
GELU its tanh term or ``Phi(x)``), so no exp, erf or tanh is recomputed. ``tanh`` is
module 01's op; its rule is in ``rules/tensor.py``.
"""

from __future__ import annotations

import numpy as np

from gradstack.activations.ops import (
    GELU_TANH_C,
    GELU_TANH_K,
    GELU_TANH_SATURATION,
)
from gradstack.activations.special import normal_pdf
from gradstack.tensor import Node

from ..registry import register_rule


@register_rule("relu")
def relu(g: np.ndarray, node: Node) -> tuple:
    """d relu(x) = g where x > 0, else 0 (0 at x = 0, as in PyTorch)."""
    # HINT: g where x > 0, else 0 (also at x = 0, as in PyTorch); x = node.inputs[0].data.
    # BEGIN SOLUTION
    x = node.inputs[0].data
    return (np.where(x > 0, g, np.zeros((), dtype=g.dtype)),)
    # END SOLUTION


@register_rule("sigmoid")
def sigmoid(g: np.ndarray, node: Node) -> tuple:
    """d sigmoid(x) = g s (1 - s), with the saved output s."""
    # HINT: g s (1 - s) with s = node.saved (the forward's output): a new array 1 - s,
    # HINT: then multiply in place.
    # BEGIN SOLUTION
    s = node.saved
    grad = 1.0 - s
    grad *= s
    grad *= g
    return (grad,)
    # END SOLUTION


def _gelu_tanh_derivative(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """d/dx of x/2 (1 + t), t = tanh(K (x + C x**3)): (1 + t)/2 + x/2 (1 - t**2) K (1 + 3 C x**2).

    x is clipped to +-10 like the forward: beyond it ``1 - t**2`` is exactly 0, so the
    second term vanishes either way and ``x**3`` cannot overflow.
    """
    # HINT: (1 + t) / 2 + x / 2 (1 - t**2) K (1 + 3 C x**2) with t the saved tanh term, x clipped to
    # HINT: +-GELU_TANH_SATURATION as in the forward; 0-d as 1-d (np.atleast_1d), reshaped back.
    # BEGIN SOLUTION
    shape = x.shape
    x, t = np.atleast_1d(x, t)  # 0-d viewed as 1-d: NumPy then returns arrays, not scalars
    xc = np.clip(x, -GELU_TANH_SATURATION, GELU_TANH_SATURATION)
    sech2 = t * t
    np.subtract(1.0, sech2, out=sech2)
    slope = xc * xc
    slope *= 3.0 * GELU_TANH_C * GELU_TANH_K
    slope += GELU_TANH_K
    slope *= xc  # K x (1 + 3 C x**2)
    slope *= sech2
    slope += 1.0
    slope += t
    slope *= 0.5
    return slope.reshape(shape)
    # END SOLUTION


@register_rule("gelu")
def gelu(g: np.ndarray, node: Node) -> tuple:
    """d gelu(x): exact ``Phi(x) + x phi(x)``; tanh form from the saved tanh term."""
    # HINT: tanh form: _gelu_tanh_derivative(x, node.saved); exact form: Phi(x) + x phi(x) with
    # HINT: Phi = node.saved and phi = normal_pdf(x). Multiply by g.
    # BEGIN SOLUTION
    x = node.inputs[0].data
    if node.attrs["approximate"] == "tanh":
        grad = _gelu_tanh_derivative(x, node.saved)
    else:
        grad = normal_pdf(x)
        grad *= x
        grad += node.saved  # Phi(x)
    grad *= g
    return (grad,)
    # END SOLUTION


@register_rule("softmax")
def softmax(g: np.ndarray, node: Node) -> tuple:
    """d softmax = (g - sum(g s)) s along the dim, with the saved output s."""
    # HINT: (g - sum(g s, dim, keepdims=True)) s along attrs['dim'], s = node.saved.
    # BEGIN SOLUTION
    s = node.saved
    dim = node.attrs["dim"]
    grad = g * s
    total = np.sum(grad, axis=dim, keepdims=True)
    np.subtract(g, total, out=grad)
    grad *= s
    return (grad,)
    # END SOLUTION


@register_rule("log_softmax")
def log_softmax(g: np.ndarray, node: Node) -> tuple:
    """d log_softmax = g - softmax sum(g) along the dim; softmax = exp(saved log-probs)."""
    # HINT: g - softmax sum(g, dim, keepdims=True), softmax = exp(node.saved).
    # BEGIN SOLUTION
    dim = node.attrs["dim"]
    grad = np.exp(node.saved)
    grad *= np.sum(g, axis=dim, keepdims=True)
    np.subtract(g, grad, out=grad)
    return (grad,)
    # END SOLUTION
