"""The activation ops: one numerically stable forward each, on ndarrays.

Each forward returns ``(output, saved)``; ``saved`` is what the gradient rule (in
gradstack-autograd's ``rules/activations.py``) needs and cannot cheaply recompute.
``tanh`` is not here: it is module 01's ``tanh`` op, reused through ``Tensor.tanh``.
"""

from __future__ import annotations

import numpy as np

from gradstack.tensor import register_op

from .special import GELU_TANH_C, GELU_TANH_K, GELU_TANH_SATURATION, normal_cdf
from .stable import stable_sigmoid

GELU_APPROXIMATIONS = ("tanh", "none")


@register_op("relu")
def relu_op(a: np.ndarray) -> tuple[np.ndarray, None]:
    """``max(a, 0)`` elementwise, dtype kept; NaN passes through. Nothing saved: the rule only
    needs the sign of the input."""
    # HINT: NaN must stay NaN: a mask such as where(a > 0, a, 0) would turn it into 0.
    # BEGIN SOLUTION
    return np.maximum(a, 0), None
    # END SOLUTION


@register_op("sigmoid")
def sigmoid_op(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``s = 1 / (1 + exp(-a))`` elementwise, stable at any magnitude; saves ``s``."""
    # HINT: exp(-a) overflows for a < -89 in float32: use stable_sigmoid (stable.py). The rule's
    # HINT: derivative is s (1 - s): what should the forward save?
    # BEGIN SOLUTION
    out = stable_sigmoid(a)
    return out, out
    # END SOLUTION


@register_op("gelu")
def gelu_op(a: np.ndarray, *, approximate: str) -> tuple[np.ndarray, np.ndarray]:
    """GELU ``x Phi(x)``, exact (``"none"``) or with the tanh approximation (GPT-2's).

    Exact: ``out = x Phi(x)`` with ``Phi(x) = (1 + erf(x / sqrt 2)) / 2``; saves ``Phi(x)``.
    Tanh: ``t = tanh(K (x + C x**3))``, ``out = x (1 + t) / 2``; saves ``t``. Same shape
    and dtype as ``a``.
    """
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(
            f"gelu: approximate must be one of {GELU_APPROXIMATIONS}, got {approximate!r}"
        )
    # HINT: x**3 overflows for |x| > 7e12 in float32 (an overflow warning, then tanh(inf)); but
    # HINT: tanh is already exactly +-1 from |x| = GELU_TANH_SATURATION on, so clip x inside the
    # HINT: tanh only. Halve before multiplying by x: x (1 + t) overflows near the float maximum.
    # HINT: Write x**3 as x * x * x: NumPy's float32 power is a general pow, far slower.
    # HINT: Phi(x) is normal_cdf (special.py). Test: tox -e 02_activations -- -k gelu
    # BEGIN SOLUTION
    if approximate == "tanh":
        xc = np.clip(a, -GELU_TANH_SATURATION, GELU_TANH_SATURATION)  # same tanh, finite x**3
        t = np.tanh(GELU_TANH_K * (xc + GELU_TANH_C * xc * xc * xc))
        return 0.5 * a * (1.0 + t), t
    phi = normal_cdf(a)  # Phi(x)
    return a * phi, phi
    # END SOLUTION


@register_op("softmax")
def softmax_op(a: np.ndarray, *, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``s = exp(a) / sum(exp(a))`` along ``dim``; saves ``s`` (the rule needs it)."""
    if a.size == 0:
        out = np.empty_like(a)
        return out, out
    # HINT: exp(1000) overflows: softmax does not change when a constant is subtracted along dim,
    # HINT: so subtract the max first (keepdims, so it broadcasts); the largest exp is then 1.
    # BEGIN SOLUTION
    z = a - np.max(a, axis=dim, keepdims=True)  # max along dim is 0
    e = np.exp(z)  # in (0, 1]
    out = e / np.sum(e, axis=dim, keepdims=True)
    return out, out
    # END SOLUTION


@register_op("log_softmax")
def log_softmax_op(a: np.ndarray, *, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``a - log(sum(exp(a)))`` along ``dim`` (log-probabilities); saves the output."""
    if a.size == 0:
        out = np.empty_like(a)
        return out, out
    # HINT: never log(softmax(a)): softmax underflows to 0 and its log is -inf. Subtract the max
    # HINT: along dim first, as in softmax; log(sum(exp(z))) is then at least log(1) = 0.
    # BEGIN SOLUTION
    z = a - np.max(a, axis=dim, keepdims=True)  # max along dim is 0
    out = z - np.log(np.sum(np.exp(z), axis=dim, keepdims=True))
    return out, out
    # END SOLUTION
