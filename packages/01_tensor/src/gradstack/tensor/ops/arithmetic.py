"""Binary arithmetic and matrix product: ``+ - * / ** @`` and unary minus."""

from __future__ import annotations

import numpy as np

from ..checks import binary_error
from ..registry import register_op


def elementwise_binary(name: str, ufunc: np.ufunc, differentiable: bool = True):
    """Register an elementwise binary op whose errors name the op and the shapes
    (the arithmetic ops here, and the comparisons, which carry no gradient)."""

    def forward(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, None]:
        try:
            # HINT: one ufunc call covers every shape pair that broadcasts; a mismatch raises
            # HINT: ValueError, reworded below. The rules of add, sub and mul need only the inputs:
            # HINT: save nothing.
            # BEGIN SOLUTION
            return ufunc(a, b), None
            # END SOLUTION
        except (ValueError, TypeError) as error:
            raise binary_error(name, a, b, error) from None

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"Elementwise {ufunc.__name__} with NumPy broadcasting."
    return register_op(name, differentiable=differentiable)(forward)


add_op = elementwise_binary("add", np.add)
sub_op = elementwise_binary("sub", np.subtract)
mul_op = elementwise_binary("mul", np.multiply)


@register_op("div")
def div_op(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, None]:
    """True division; integer operands give float32, never float64."""
    try:
        # HINT: with two integer operands NumPy's true division gives float64; the lines below cast
        # HINT: that back to float32, so the region only divides.
        # BEGIN SOLUTION
        out = np.true_divide(a, b)
        # END SOLUTION
    except (ValueError, TypeError) as error:
        raise binary_error("div", a, b, error) from None
    if out.dtype == np.float64 and a.dtype != np.float64 and b.dtype != np.float64:
        out = out.astype(np.float32)
    return out, None


@register_op("pow")
def pow_op(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a ** b``; the result is saved because both gradients use it."""
    try:
        # HINT: 0 ** -1 and (-8) ** (1/3) give inf and NaN with NumPy's RuntimeWarning, as in NumPy:
        # HINT: do not special-case them. Both rules reuse the output: it is saved below.
        # BEGIN SOLUTION
        out = np.power(a, b)
        # END SOLUTION
    except (ValueError, TypeError) as error:
        raise binary_error("pow", a, b, error) from None
    return out, out


@register_op("neg")
def neg_op(a: np.ndarray) -> tuple[np.ndarray, None]:
    """Unary minus (booleans have none: use ``~`` on the array, or ``1 - mask``)."""
    try:
        # HINT: a bool array has no unary minus: let NumPy's TypeError through, the except below
        # HINT: rewords it.
        # BEGIN SOLUTION
        return np.negative(a), None
        # END SOLUTION
    except TypeError:
        raise TypeError(f"neg: unary minus is not defined for dtype {a.dtype}") from None


def _matmul_error(a: np.ndarray, b: np.ndarray) -> ValueError:
    """Say which dimensions of ``a @ b`` disagree."""
    if a.ndim == 0 or b.ndim == 0:
        return ValueError(f"matmul: {a.shape} @ {b.shape}: both operands need at least 1 dim")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        return ValueError(
            f"matmul: {a.shape} @ {b.shape}: inner dimensions {inner_a} and {inner_b} differ"
        )
    return ValueError(
        f"matmul: {a.shape} @ {b.shape}: batch dimensions {a.shape[:-2]} and {b.shape[:-2]} "
        "cannot be broadcast together"
    )


@register_op("matmul")
def matmul_op(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, None]:
    """``np.matmul`` for every rank: 1-D vectors, 2-D matrices, broadcast batch dims."""
    try:
        # HINT: one NumPy call covers 1-D vectors, 2-D matrices and broadcast batch dims (..., n, k)
        # HINT: @ (..., k, m) -> (..., n, m); its ValueError for mismatched dims is reworded below.
        # BEGIN SOLUTION
        return np.matmul(a, b), None
        # END SOLUTION
    except ValueError:
        raise _matmul_error(a, b) from None
    except TypeError as error:
        raise TypeError(
            f"matmul: {a.shape} @ {b.shape}: not supported for dtypes {a.dtype} and {b.dtype}: "
            f"{error}"
        ) from None
