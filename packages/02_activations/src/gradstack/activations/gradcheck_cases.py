"""Gradient checks of gradstack.activations (rules in gradstack.autograd)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from gradstack.activations import GELU, gelu, log_softmax, relu, sigmoid, softmax, tanh
from gradstack.tensor import Tensor
from gradstack.tensor.gradcheck_table import (
    Built,
    TorchCase,
    away_from,
    cases_of,
    f64,
    torch_leaf,
)

MODULE = "activations"


def _pointwise() -> list[Built]:
    """relu (away from its kink), sigmoid, tanh over a batch."""
    return [
        (relu, [away_from((3, 5), 1, (0.0,), 0.05)]),
        (sigmoid, [f64((2, 3, 4), 2, -4.0, 4.0)]),
        (tanh, [f64((2, 3, 4), 3, -3.0, 3.0)]),
    ]


def _gelu() -> list[Built]:
    """GELU, both the tanh approximation and the exact erf form, function and class."""
    return [
        (lambda x: gelu(x, approximate="tanh"), [f64((3, 4), 4, -3.0, 3.0)]),
        (lambda x: gelu(x, approximate="none"), [f64((3, 4), 5, -3.0, 3.0)]),
        (GELU(approximate="none"), [f64((2, 5), 6, -3.0, 3.0)]),
    ]


def _softmax() -> list[Built]:
    """softmax and log_softmax over the last and over a leading dim."""
    return [
        (lambda x: softmax(x, dim=-1), [f64((2, 3, 5), 7, -3.0, 3.0)]),
        (lambda x: softmax(x, dim=0), [f64((4, 3), 8, -3.0, 3.0)]),
        (lambda x: log_softmax(x, dim=-1), [f64((2, 3, 5), 9, -3.0, 3.0)]),
        (lambda x: log_softmax(x, dim=1), [f64((2, 4, 3), 10, -3.0, 3.0)]),
    ]


def _torch_cases() -> list[TorchCase]:
    """Every activation on the same input as its PyTorch counterpart."""
    x0 = np.random.default_rng(20).uniform(-4.0, 4.0, (3, 6))
    ours_fns = {
        "relu": relu,
        "sigmoid": sigmoid,
        "tanh": tanh,
        "gelu tanh": lambda x: gelu(x, approximate="tanh"),
        "gelu erf": lambda x: gelu(x, approximate="none"),
        "softmax": lambda x: softmax(x, dim=-1),
        "log_softmax": lambda x: log_softmax(x, dim=0),
    }

    def theirs_fn(name: str, torch: ModuleType):  # noqa: ANN202 (torch callables)
        functional = torch.nn.functional
        return {
            "relu": torch.relu,
            "sigmoid": torch.sigmoid,
            "tanh": torch.tanh,
            "gelu tanh": lambda x: functional.gelu(x, approximate="tanh"),
            "gelu erf": lambda x: functional.gelu(x, approximate="none"),
            "softmax": lambda x: torch.softmax(x, dim=-1),
            "log_softmax": lambda x: torch.log_softmax(x, dim=0),
        }[name]

    def case(name: str) -> TorchCase:
        def ours() -> tuple[Tensor, list[Tensor]]:
            x = Tensor(x0, dtype="float64", requires_grad=True)
            return ours_fns[name](x), [x]

        def theirs(torch: ModuleType) -> tuple[object, list[object]]:
            x = torch_leaf(torch, x0)
            return theirs_fn(name, torch)(x), [x]

        return TorchCase(name, ours, theirs)

    return [case(name) for name in ours_fns]


GRADCHECK_CASES = [
    *cases_of("relu sigmoid tanh", _pointwise, ("relu", "sigmoid", "tanh")),
    *cases_of("GELU (tanh, erf)", _gelu, ("gelu tanh", "gelu erf", "GELU module erf")),
    *cases_of(
        "softmax, log_softmax",
        _softmax,
        ("softmax last dim", "softmax dim 0", "log_softmax last dim", "log_softmax dim 1"),
    ),
]
TORCH_CASES = _torch_cases()
