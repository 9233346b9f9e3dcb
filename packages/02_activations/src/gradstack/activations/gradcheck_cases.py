"""Gradient checks of gradstack.activations (rules in gradstack.autograd)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import Any

import numpy as np

from gradstack.activations import GELU, gelu, log_softmax, relu, sigmoid, softmax, tanh
from gradstack.tensor import Built, GradCase, Tensor, TorchCase, torch_leaf


def _case(component: str, label: str, op: str, fn: Callable[..., Tensor], *inputs: Any) -> GradCase:
    """A case of ``fn`` on float64 leaves holding ``inputs`` (arrays), fresh at every build."""

    def build() -> Built:
        leaves = [Tensor(np.array(a, dtype=np.float64), dtype="float64", requires_grad=True)
                  for a in inputs]  # fmt: skip
        return fn, leaves

    return GradCase(component, label, build, op)


def _normal(shape: tuple[int, ...], seed: int, scale: float = 1.0) -> np.ndarray:
    """Standard normal samples times ``scale``, from their own seed."""
    return np.random.default_rng(seed).standard_normal(shape) * scale


def _away_from_zero(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Normal samples (times 2) pushed at least 0.05 from 0, where relu has its kink."""
    x = _normal(shape, seed, 2.0)
    return x + np.where(x >= 0, 0.05, -0.05)


#: GELU's inputs around its saturation points (|x| = 10) and far out.
GELU_EDGES = [-1e4, -12.0, -10.001, -9.999, -4.0, -1e-3, 0.0, 1e-3, 4.0, 9.999, 10.001, 12.0, 1e4]
SHAPES = [(7,), (3, 4), (2, 3, 5)]
SHAPE3 = (3, 4, 5)
POINTWISE, GELUS, SOFTMAX = "relu sigmoid tanh", "GELU (tanh, erf)", "softmax, log_softmax"


def _pointwise() -> list[GradCase]:
    """relu (away from its kink), sigmoid at growing scales, tanh, over several ranks."""
    cases = [
        _case(POINTWISE, f"relu {shape}", "relu", relu, _away_from_zero(shape, i))
        for i, shape in enumerate(SHAPES)
    ]
    cases += [
        _case(POINTWISE, f"sigmoid scale {s}", "sigmoid", sigmoid, _normal((4, 5), 10, s))
        for s in (1.0, 6.0, 30.0)
    ]
    cases.append(_case(POINTWISE, "tanh (3, 4)", "tanh", tanh, _normal((3, 4), 11, 2)))
    return cases


def _gelu() -> list[GradCase]:
    """GELU, the tanh approximation and the exact erf form, over ranks and at its edges."""
    cases = []
    for approximate in ("tanh", "none"):
        fn = partial(gelu, approximate=approximate)
        cases += [
            _case(GELUS, f"{approximate} {shape}", "gelu", fn, _normal(shape, 20 + i, 3))
            for i, shape in enumerate([(11,), (3, 4), (2, 3, 4)])
        ]
        cases.append(_case(GELUS, f"{approximate} edges", "gelu", fn, GELU_EDGES))
    cases.append(
        _case(
            GELUS,
            "GELU module erf",
            "gelu",
            GELU(approximate="none"),
            _normal((2, 5), 6, 3),
        )
    )
    return cases


def _softmax() -> list[GradCase]:
    """softmax and log_softmax along every dim, on a transposed input, over a one-element dim."""
    cases = []
    for name, fn in (("softmax", softmax), ("log_softmax", log_softmax)):
        cases += [
            _case(
                SOFTMAX,
                f"{name} dim {dim}",
                name,
                partial(fn, dim=dim),
                _normal((3, 4, 5), 30, 2),
            )
            for dim in (0, 1, 2, -1, -2, -3)
        ]
        cases.append(
            _case(SOFTMAX, f"{name} transposed", name,
                  lambda t, fn=fn: fn(t.transpose(0, 1), dim=-1), _normal((4, 3), 31))
        )  # fmt: skip
        cases += [
            _case(
                SOFTMAX,
                f"{name} one-element dim {dim}",
                name,
                partial(fn, dim=dim),
                _normal((3, 1), 32),
            )
            for dim in (-1, 0)
        ]
    return cases


def _network(a: Tensor, b: Tensor) -> Tensor:
    """A chain of every activation after a matmul."""
    hidden = gelu(a @ b)
    return log_softmax(sigmoid(hidden) * 3 + relu(hidden), dim=-2)


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
    *_pointwise(),
    *_gelu(),
    *_softmax(),
    _case(
        "chain",
        "gelu, sigmoid, relu, log_softmax",
        "",
        _network,
        _normal((2, 3, 4), 40),
        _normal((4, 4), 41, 0.5),
    ),
]
TORCH_CASES = _torch_cases()
