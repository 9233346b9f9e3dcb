"""Comparisons: boolean results that carry no gradient."""

from __future__ import annotations

import numpy as np

from ..checks import binary_error
from ..registry import register_op


def _comparison(name: str, ufunc: np.ufunc):
    """Register a non-differentiable elementwise comparison."""

    def forward(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, None]:
        try:
            # HINT: apply the comparison ufunc (it broadcasts) and return (bool array, None).
            # BEGIN SOLUTION
            return ufunc(a, b), None
            # END SOLUTION
        except (ValueError, TypeError) as error:
            raise binary_error(name, a, b, error) from None

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"Elementwise {ufunc.__name__}; a bool tensor without grad."
    return register_op(name, differentiable=False)(forward)


eq = _comparison("eq", np.equal)
ne = _comparison("ne", np.not_equal)
lt = _comparison("lt", np.less)
le = _comparison("le", np.less_equal)
gt = _comparison("gt", np.greater)
ge = _comparison("ge", np.greater_equal)
