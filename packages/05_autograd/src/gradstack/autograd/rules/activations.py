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

    Written as ``(1 + t) (1/2 + x/2 K (1 + 3 C x**2) (1 - t))``, since 1 - t**2 = (1 + t)
    (1 - t): nine passes over the array instead of eleven. x is clipped to +-10 first:
    beyond it ``1 - t`` or ``1 + t`` is exactly 0, so the second term vanishes either way
    and ``x**3`` cannot overflow (inf * 0 would be NaN).
    """
    # HINT: (1 + t) (1/2 + x/2 K (1 + 3 C x**2) (1 - t)) with t the saved tanh term, x clipped to
    # HINT: +-GELU_TANH_SATURATION; 0-d as 1-d (np.atleast_1d), reshaped back.
    # BEGIN SOLUTION
    shape = x.shape
    x, t = np.atleast_1d(x, t)  # 0-d viewed as 1-d: NumPy then returns arrays, not scalars
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
