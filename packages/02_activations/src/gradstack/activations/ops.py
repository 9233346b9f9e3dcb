"""The activation ops: one fused, numerically stable forward each, on ndarrays.

Each forward returns ``(output, saved)``; ``saved`` is what the gradient rule (in
gradstack-autograd's ``rules/activations.py``) needs and cannot cheaply recompute.
``tanh`` is not here: it is module 01's ``tanh`` op, reused through ``Tensor.tanh``.
"""

from __future__ import annotations

import math

import numpy as np

from gradstack.tensor import register_op

from .special import normal_cdf
from .stable import shift_by_max, stable_sigmoid

GELU_APPROXIMATIONS = ("tanh", "none")

# gelu_tanh(x) = x/2 * (1 + tanh(K (x + C x**3)))  (Hendrycks & Gimpel; GPT-2's "gelu_new")
GELU_TANH_K = math.sqrt(2.0 / math.pi)
GELU_TANH_C = 0.044715
# For |x| >= 10 the tanh argument exceeds 43, so tanh is exactly +-1 in float32 and
# float64: the derivative clips x there, which changes nothing and keeps x**3 finite.
GELU_TANH_SATURATION = 10.0


def gelu_tanh_inner(x: np.ndarray) -> np.ndarray:
    """``tanh(K (x + C x**3))`` as a new array; where x**3 overflows, tanh is +-1 anyway."""
    # HINT: tanh(K x (1 + C x**2)) with K = GELU_TANH_K, C = GELU_TANH_C, in place where you can.
    # HINT: For huge |x| the polynomial overflows to +-inf and tanh gives exactly +-1 (already
    # HINT: true from |x| = GELU_TANH_SATURATION on), so silence that overflow with np.errstate
    # HINT: (cheaper than clipping x). 0-d inputs: compute on np.atleast_1d(x), reshape back.
    # BEGIN SOLUTION
    x1 = np.atleast_1d(x)
    with np.errstate(over="ignore"):  # |x| > ~1e13: the polynomial is +-inf, tanh is +-1
        inner = x1 * x1
        inner *= GELU_TANH_C * GELU_TANH_K
        inner += GELU_TANH_K
        inner *= x1  # K x (1 + C x**2)
    np.tanh(inner, out=inner)
    return inner.reshape(np.shape(x))
    # END SOLUTION


@register_op("relu")
def relu(a: np.ndarray) -> tuple[np.ndarray, None]:
    """``max(a, 0)``; NaN passes through. The rule only needs the input's sign."""
    # HINT: max(a, 0) elementwise against a 0 of a's dtype (NaN must pass through: np.maximum
    # HINT: keeps it); compute on np.atleast_1d(a) and reshape back; nothing saved.
    # BEGIN SOLUTION
    return np.maximum(np.atleast_1d(a), np.zeros((), dtype=a.dtype)).reshape(a.shape), None
    # END SOLUTION


@register_op("sigmoid")
def sigmoid(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``1 / (1 + exp(-a))`` in the two-branch stable form; saves the output ``s``."""
    # HINT: out = stable_sigmoid(a) (stable.py); save out, the rule needs s (1 - s).
    # BEGIN SOLUTION
    out = stable_sigmoid(a)
    return out, out
    # END SOLUTION


@register_op("gelu")
def gelu(a: np.ndarray, *, approximate: str) -> tuple[np.ndarray, np.ndarray]:
    """GELU ``x Phi(x)``, exact (``"none"``) or with the tanh approximation.

    Saves ``Phi(x)`` for the exact form and the tanh term for the approximation: the
    derivative is built from them without recomputing erf or tanh.
    """
    x = np.atleast_1d(a)  # a 0-d input viewed as 1-d, so NumPy returns arrays, not scalars
    if approximate == "tanh":
        # HINT: t = gelu_tanh_inner(x) is saved; out = x (1 + t) / 2, halving before multiplying
        # HINT: by x so nothing overflows near the float maximum.
        # BEGIN SOLUTION
        saved = gelu_tanh_inner(x)
        out = saved + 1.0
        out *= 0.5  # halve before scaling by x: (1 + t) x could overflow at float max
        out *= x
        # END SOLUTION
    elif approximate == "none":
        # HINT: exact GELU: saved = Phi(x) = normal_cdf(x) (special.py); out = x Phi(x).
        # BEGIN SOLUTION
        saved = normal_cdf(x)
        out = x * saved
        # END SOLUTION
    else:
        raise ValueError(
            f"gelu: approximate must be one of {GELU_APPROXIMATIONS}, got {approximate!r}"
        )
    return out.reshape(a.shape), saved.reshape(a.shape)


@register_op("softmax")
def softmax(a: np.ndarray, *, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``exp(a) / sum(exp(a))`` along ``dim``, max subtracted first; saves the output."""
    if a.size == 0:
        out = np.empty_like(a)
        return out, out
    # HINT: z = shift_by_max(a, dim) (the max along dim becomes 0, so exp cannot overflow);
    # HINT: out = exp(z) / sum(exp(z), dim, keepdims=True), in place; save out (s).
    # BEGIN SOLUTION
    out = shift_by_max(a, dim)
    np.exp(out, out=out)
    out /= np.sum(out, axis=dim, keepdims=True)
    return out, out
    # END SOLUTION


@register_op("log_softmax")
def log_softmax(a: np.ndarray, *, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``a - logsumexp(a)`` along ``dim`` without overflow; saves the output (log-probs)."""
    if a.size == 0:
        out = np.empty_like(a)
        return out, out
    # HINT: z = shift_by_max(a, dim); out = z - log(sum(exp(z), dim, keepdims=True)) (ignore
    # HINT: underflow in exp with np.errstate); save out, the log-probabilities.
    # BEGIN SOLUTION
    out = shift_by_max(a, dim)
    with np.errstate(under="ignore"):
        out -= np.log(np.sum(np.exp(out), axis=dim, keepdims=True))
    return out, out
    # END SOLUTION
