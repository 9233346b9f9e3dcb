"""Gradient rules for the ops of module 02 (gradstack.activations).

Every rule is the analytic derivative of the forward, written with what the forward
saved (softmax and sigmoid their output, log-softmax its log-probabilities, GELU its
tanh term or ``Phi(x)``), so no exp, erf or tanh is recomputed. ``tanh`` is
module 01's op; its rule is in ``rules/tensor.py``.
"""

from __future__ import annotations

import numpy as np

from gradstack.activations import (
    GELU_TANH_C,
    GELU_TANH_K,
    GELU_TANH_SATURATION,
    normal_pdf,
)
from gradstack.tensor import Node

from ..registry import register_rule


@register_rule("relu")
def relu_backward(g: np.ndarray, node: Node) -> tuple:
    """d relu(x) = g where x > 0, else 0 (0 at x = 0, as in PyTorch)."""
    # HINT: g * (x > 0) looks equivalent but is not: a NaN or inf in g at an inactive unit
    # HINT: would leak NaN (inf * 0). Keep g's dtype.
    # BEGIN SOLUTION
    x = node.inputs[0].data
    return (np.where(x > 0, g, 0.0),)
    # END SOLUTION


@register_rule("sigmoid")
def sigmoid_backward(g: np.ndarray, node: Node) -> tuple:
    """d sigmoid(x) = g s (1 - s), with the saved output s."""
    # HINT: the forward saved s: no exp needed here. Check the formula by differentiating
    # HINT: 1 / (1 + exp(-x)) once by hand.
    # BEGIN SOLUTION
    s = node.saved
    return (g * s * (1.0 - s),)
    # END SOLUTION


@register_rule("gelu")
def gelu_backward(g: np.ndarray, node: Node) -> tuple:
    """d gelu(x): exact ``Phi(x) + x phi(x)``; tanh form, with ``t`` the saved tanh term,
    ``(1 + t) / 2 + x / 2 (1 - t**2) K (1 + 3 C x**2)``."""
    # HINT: Phi(x) and t are node.saved; phi is normal_pdf. Where |x| >= GELU_TANH_SATURATION,
    # HINT: 1 - t**2 is exactly 0 but x**2 may overflow (inf * 0 = NaN): clip x for the second
    # HINT: term as the forward does. Test: tox -e 05_autograd -- -k gelu
    # BEGIN SOLUTION
    x = node.inputs[0].data
    if node.attrs["approximate"] == "tanh":
        t = node.saved  # tanh(K (x + C x**3))
        xc = np.clip(x, -GELU_TANH_SATURATION, GELU_TANH_SATURATION)  # 1 - t**2 = 0 beyond
        slope = GELU_TANH_K * (1.0 + 3.0 * GELU_TANH_C * xc * xc)  # d/dx of K (x + C x**3)
        grad = 0.5 * (1.0 + t) + 0.5 * xc * (1.0 - t * t) * slope
    else:
        grad = node.saved + x * normal_pdf(x)  # Phi(x) + x phi(x)
    return (g * grad,)
    # END SOLUTION


@register_rule("softmax")
def softmax_backward(g: np.ndarray, node: Node) -> tuple:
    """d softmax = (g - sum(g s)) s along the dim, with the saved output s."""
    # HINT: the Jacobian diag(s) - s s^T is never built: multiply it by g in closed form. The
    # HINT: sum runs along node.attrs["dim"] with keepdims, so it broadcasts back.
    # BEGIN SOLUTION
    s = node.saved
    dim = node.attrs["dim"]
    return ((g - np.sum(g * s, axis=dim, keepdims=True)) * s,)
    # END SOLUTION


@register_rule("log_softmax")
def log_softmax_backward(g: np.ndarray, node: Node) -> tuple:
    """d log_softmax = g - softmax sum(g) along the dim; softmax = exp(saved log-probs)."""
    # HINT: the saved output is log-probabilities, at most 0, so exp of it cannot overflow.
    # BEGIN SOLUTION
    dim = node.attrs["dim"]
    softmax = np.exp(node.saved)
    return (g - softmax * np.sum(g, axis=dim, keepdims=True),)
    # END SOLUTION
