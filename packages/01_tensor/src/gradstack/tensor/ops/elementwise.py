"""Unary elementwise functions: exp, log, sqrt, tanh, abs, clip, astype."""

from __future__ import annotations

import numpy as np

from ..registry import register_op


def _floating(a: np.ndarray) -> np.ndarray:
    """Integer and bool inputs of a transcendental function compute in float32, not float64."""
    return a if a.dtype.kind == "f" else a.astype(np.float32)


@register_op("exp")
def exp_op(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``e ** a``; saves the output, which is also its derivative."""
    # HINT: integer input computes in float32 (_floating), not NumPy's float64. What does the rule
    # HINT: need that you already have?
    # BEGIN SOLUTION
    out = np.exp(_floating(a))
    return out, out
    # END SOLUTION


@register_op("log")
def log_op(a: np.ndarray) -> tuple[np.ndarray, None]:
    """Natural logarithm: ``-inf`` at 0 and NaN below, with NumPy's RuntimeWarning."""
    # HINT: integer input computes in float32 (_floating). log(0) = -inf and log(-1) = NaN with
    # HINT: NumPy's warning, as documented; the rule needs only the input.
    # BEGIN SOLUTION
    return np.log(_floating(a)), None
    # END SOLUTION


@register_op("sqrt")
def sqrt_op(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Square root; saves the output for the derivative ``1 / (2 sqrt(a))``."""
    # HINT: integer input computes in float32 (_floating); save the value d sqrt(a) = 1 / (2
    # HINT: sqrt(a)) reuses.
    # BEGIN SOLUTION
    out = np.sqrt(_floating(a))
    return out, out
    # END SOLUTION


@register_op("tanh")
def tanh_op(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hyperbolic tangent; saves the output for the derivative ``1 - tanh**2``."""
    # HINT: integer input computes in float32 (_floating); save the value d tanh(a) = 1 - tanh(a)**2
    # HINT: reuses.
    # BEGIN SOLUTION
    out = np.tanh(_floating(a))
    return out, out
    # END SOLUTION


@register_op("abs")
def abs_op(a: np.ndarray) -> tuple[np.ndarray, None]:
    """Absolute value (its gradient at 0 is 0, as in PyTorch)."""
    # HINT: nothing to save: the rule needs only the sign of the input.
    # BEGIN SOLUTION
    return np.abs(a), None
    # END SOLUTION


@register_op("clip")
def clip_op(a: np.ndarray, *, min: float | None, max: float | None) -> tuple[np.ndarray, None]:  # noqa: A002
    """Clamp into ``[min, max]``; either bound may be None."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip: min {min} is greater than max {max}")
    # HINT: a Python float bound would promote float32 to float64 in NumPy: give each given bound
    # HINT: a's dtype (a None bound stays None). The rule reads the bounds from attrs.
    # BEGIN SOLUTION
    lo = None if min is None else np.asarray(min, dtype=a.dtype)
    hi = None if max is None else np.asarray(max, dtype=a.dtype)
    return np.clip(a, lo, hi), None
    # END SOLUTION


@register_op("astype")
def astype_op(a: np.ndarray, *, dtype: np.dtype) -> tuple[np.ndarray, None]:
    """Cast to another dtype (the gradient is cast back to the input's dtype)."""
    return a.astype(dtype, copy=False), None
