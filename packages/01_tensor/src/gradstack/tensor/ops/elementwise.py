"""Unary elementwise functions: exp, log, sqrt, tanh, abs, clip, astype."""

from __future__ import annotations

import numpy as np

from ..registry import register_op


def _floating(a: np.ndarray) -> np.ndarray:
    """Integer and bool inputs of a transcendental function compute in float32, not float64."""
    return a if a.dtype.kind == "f" else a.astype(np.float32)


@register_op("exp")
def exp(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``e ** a``; saves the output, which is also its derivative."""
    # HINT: out = e ** a on _floating(a); save out itself: it is also the derivative.
    # BEGIN SOLUTION
    out = np.exp(_floating(a))
    return out, out
    # END SOLUTION


@register_op("log")
def log(a: np.ndarray) -> tuple[np.ndarray, None]:
    """Natural logarithm: ``-inf`` at 0 and NaN below, with NumPy's RuntimeWarning."""
    # HINT: natural log of _floating(a); nothing to save (the rule divides by the input).
    # BEGIN SOLUTION
    return np.log(_floating(a)), None
    # END SOLUTION


@register_op("sqrt")
def sqrt(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Square root; saves the output for the derivative ``1 / (2 sqrt(a))``."""
    # HINT: out = sqrt(_floating(a)); save out for the derivative 1 / (2 sqrt(a)).
    # BEGIN SOLUTION
    out = np.sqrt(_floating(a))
    return out, out
    # END SOLUTION


@register_op("tanh")
def tanh(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hyperbolic tangent; saves the output for the derivative ``1 - tanh**2``."""
    # HINT: out = tanh(_floating(a)); save out for the derivative 1 - tanh(a)**2.
    # BEGIN SOLUTION
    out = np.tanh(_floating(a))
    return out, out
    # END SOLUTION


@register_op("abs")
def abs_(a: np.ndarray) -> tuple[np.ndarray, None]:
    """Absolute value (its gradient at 0 is 0, as in PyTorch)."""
    # HINT: |a| elementwise (np.abs), nothing saved.
    # BEGIN SOLUTION
    return np.abs(a), None
    # END SOLUTION


@register_op("clip")
def clip(a: np.ndarray, *, min: float | None, max: float | None) -> tuple[np.ndarray, None]:  # noqa: A002
    """Clamp into ``[min, max]``; either bound may be None."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip: min {min} is greater than max {max}")
    # HINT: np.clip(a, lo, hi) with each given bound as a 0-d array of a's dtype (None: no bound),
    # HINT: so a float32 input stays float32; nothing saved.
    # BEGIN SOLUTION
    lo = None if min is None else np.asarray(min, dtype=a.dtype)
    hi = None if max is None else np.asarray(max, dtype=a.dtype)
    return np.clip(a, lo, hi), None
    # END SOLUTION


@register_op("astype")
def astype(a: np.ndarray, *, dtype: np.dtype) -> tuple[np.ndarray, None]:
    """Cast to another dtype (the gradient is cast back to the input's dtype)."""
    return a.astype(dtype, copy=False), None
