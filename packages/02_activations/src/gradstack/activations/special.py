"""The error function, the standard normal CDF and GELU's constants on ndarrays, without SciPy.

A public submodule (see the README, "Public surface"): gradstack-autograd's GELU rule
uses ``normal_pdf`` and the ``GELU_TANH_*`` constants of the tanh approximation.

Exact GELU is ``x * Phi(x)`` with ``Phi(x) = (1 + erf(x / sqrt 2)) / 2``. NumPy has no
``erf``, so it is computed here from a Chebyshev fit of the complementary error
function (Numerical Recipes, ``erfcc``): for ``z >= 0``

    erfc(z) ~= t * exp(-z**2 + P(t)),   t = 1 / (1 + z / 2),

with a degree-9 polynomial ``P``. Its *relative* error is below 1.2e-7 for every
``z >= 0``, so ``erfc`` stays accurate deep in the tail where ``1 - erf`` would
cancel to 0 (the absolute error of ``erf`` is below 1e-7 everywhere; the tests check
it against ``math.erf``). Everything is vectorized Horner steps done in place.
"""

from __future__ import annotations

import math

import numpy as np

# Coefficients of P(t), constant term first (Numerical Recipes in C, 2nd ed., 6.2).
_ERFC_COEFFS = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

# gelu_tanh(x) = x/2 * (1 + tanh(K (x + C x**3)))  (Hendrycks & Gimpel; GPT-2's "gelu_new")
GELU_TANH_K = math.sqrt(2.0 / math.pi)
GELU_TANH_C = 0.044715
# For |x| >= 10 the tanh argument exceeds 43, so tanh is exactly +-1 in float32 and
# float64: clipping x there changes no result and keeps x**3 finite for any input.
GELU_TANH_SATURATION = 10.0


def _float(x: np.ndarray) -> np.ndarray:
    """Floating arrays keep their dtype; anything else is computed in float64.

    A 0-d input is viewed as 1-d, because NumPy returns scalars rather than arrays
    from ufuncs on 0-d arrays; callers reshape the result back.
    """
    x = np.atleast_1d(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def erfc_nonnegative(z: np.ndarray) -> np.ndarray:
    """``erfc(z)`` for ``z >= 0`` (a new array, same float dtype), relative error < 1.2e-7."""
    shape = np.shape(z)
    z = _float(z)
    t = 1.0 + 0.5 * z
    np.reciprocal(t, out=t)
    poly = np.full_like(z, _ERFC_COEFFS[-1])
    for coeff in _ERFC_COEFFS[-2::-1]:
        poly *= t
        poly += coeff
    with np.errstate(over="ignore", under="ignore"):
        poly -= z * z  # z*z may overflow to inf for |z| > 1e19: exp(-inf) is the right 0
        np.exp(poly, out=poly)
    poly *= t
    return poly.reshape(shape)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, odd and accurate to 1e-7 absolute for every real input."""
    shape = np.shape(x)
    x = _float(x)
    tail = erfc_nonnegative(np.abs(x))
    np.subtract(1.0, tail, out=tail)
    return np.copysign(tail, x, out=tail).reshape(shape)


def erfc(x: np.ndarray) -> np.ndarray:
    """The complementary error function ``1 - erf(x)``, relatively accurate for x > 0."""
    shape = np.shape(x)
    x = _float(x)
    tail = erfc_nonnegative(np.abs(x))
    return np.where(x < 0, 2.0 - tail, tail).astype(x.dtype, copy=False).reshape(shape)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """``Phi(x)``, the standard normal CDF, relatively accurate in the lower tail too."""
    shape = np.shape(x)
    x = _float(x)
    half_tail = erfc_nonnegative(np.abs(x) * _INV_SQRT2)
    half_tail *= 0.5  # Phi(-|x|)
    np.subtract(1.0, half_tail, out=half_tail, where=x > 0)
    return half_tail.reshape(shape)


def normal_pdf(x: np.ndarray) -> np.ndarray:
    """``phi(x) = exp(-x**2 / 2) / sqrt(2 pi)``, the standard normal density."""
    shape = np.shape(x)
    x = _float(x)
    with np.errstate(over="ignore", under="ignore"):
        out = x * x  # may overflow to inf far out: exp(-inf) = 0 is the right density
        out *= -0.5
        np.exp(out, out=out)
    out *= _INV_SQRT_2PI
    return out.reshape(shape)
