"""Argument checks shared by the transformer's modules; each error names the owner and value."""

from __future__ import annotations

import numbers


def check_positive_ints(owner: str, **sizes: object) -> None:
    """Every size must be a positive int; the error names the argument and its value."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")


def check_probability(owner: str, name: str, value: object) -> None:
    """A dropout probability must be a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{owner}: {name} must be a number in [0, 1), got {value!r}")
