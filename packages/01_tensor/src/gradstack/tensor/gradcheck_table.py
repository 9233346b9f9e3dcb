"""What a row of a package's gradient-check table is, and the inputs it is built from.

Every package with differentiable ops exports its cases once, as data, from
``gradstack.<package>.gradcheck_cases`` (``GRADCHECK_CASES`` and ``TORCH_CASES``); checks
of values rather than gradients (an optimizer step, the engine) are ``ValueCase`` rows in
``gradstack.<package>.value_cases`` (``VALUE_CASES``). The
package's own tests and ``gradstack check`` both run that table with the runner in
``gradstack.autograd.gradcheck_runner``; this module holds no checking code, so packages
that come before ``gradstack.autograd`` can still write their table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from .tensor import Tensor

#: A built case: the function, and its inputs (those with ``requires_grad`` get gradients).
Built = tuple[Callable[..., Tensor], list[Any]]
#: One side of a PyTorch comparison: the output and the inputs whose gradients are compared.
Side = tuple[Any, list[Any]]


@dataclass(frozen=True)
class GradCase:
    """One finite-difference check: ``build()`` gives ``(fn, inputs)``, fresh each call.

    ``component`` names the row of ``gradstack check`` the case counts towards, ``op``
    the registered op the case must record (empty for whole modules), and ``tolerances``
    the keywords passed to ``check_gradients`` (empty: its float64 defaults).
    """

    component: str
    label: str
    build: Callable[[], Built]
    op: str = ""
    tolerances: dict[str, float] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """A unique name for test ids: component and label."""
        return f"{self.component}: {self.label}"


@dataclass(frozen=True)
class ValueCase:
    """A check that is not a gradient: ``run()`` returns the worst relative error it found.

    It passes when that error is at most ``tolerance``; with ``needs_torch`` it is called as
    ``run(torch)`` and compares with PyTorch (skipped when PyTorch is not installed). Packages
    export these from ``gradstack.<package>.value_cases`` as ``VALUE_CASES``.
    """

    component: str
    label: str
    run: Callable[..., float]
    tolerance: float = 0.0
    needs_torch: bool = False

    @property
    def id(self) -> str:
        """A unique name for test ids: component and label."""
        return f"{self.component}: {self.label}"


@dataclass(frozen=True)
class TorchCase:
    """One comparison with PyTorch: ``ours()`` and ``theirs(torch)`` on the same values.

    Both return ``(output, inputs)``; the output and the gradient of every listed input
    (of ``sum(output * R)`` for one fixed random ``R``) must agree in float64.
    """

    label: str
    ours: Callable[[], Side]
    theirs: Callable[[ModuleType], Side]


def f64(shape: tuple[int, ...], seed: int, low: float = -1.0, high: float = 1.0) -> Tensor:
    """A float64 tensor that requires grad, uniform in [low, high), from its own seed."""
    data = np.random.default_rng(seed).uniform(low, high, size=shape)
    return Tensor(data, dtype="float64", requires_grad=True)


def away_from(shape: tuple[int, ...], seed: int, points: Sequence[float], gap: float) -> Tensor:
    """Like ``f64`` in [-2, 2), but every element at least ``gap`` from each of ``points``.

    Kinks (abs at 0, clip at its bounds, relu at 0) make finite differences meaningless
    right at the kink, so inputs keep their distance.
    """
    data = np.random.default_rng(seed).uniform(-2.0, 2.0, size=shape)
    for point in points:
        near = np.abs(data - point) < gap
        data[near] = point + np.where(data[near] >= point, gap, -gap) * 2
    return Tensor(data, dtype="float64", requires_grad=True)


def module_case(module: Any, call: Callable[[], Tensor], *extra: Tensor) -> Built:
    """A case over a module's parameters (and ``extra`` inputs); ``call`` runs the module."""
    return (lambda *_: call()), [*extra, *module.parameters()]


def randomized(module: Any, seed: int) -> Any:
    """The module in float64 with every parameter drawn from U(-0.5, 0.5).

    Fresh weights are special (LayerNorm gains of 1, biases of 0, std-0.02 matrices
    that make attention nearly uniform); random ones exercise every term of a rule.
    """
    module.double()
    rng = np.random.default_rng(seed)
    for parameter in module.parameters():
        parameter.data[...] = rng.uniform(-0.5, 0.5, parameter.shape)
    return module


def torch_leaf(torch: ModuleType, array: Any, requires_grad: bool = True) -> Any:
    """A float64 torch tensor holding a copy of ``array`` (a Tensor or an ndarray)."""
    data = array.data if isinstance(array, Tensor) else np.asarray(array)
    return torch.tensor(np.array(data, dtype=np.float64), requires_grad=requires_grad)


def cases_of(
    component: str, build_all: Callable[[], list[Built]], labels: Sequence[str], op: str = ""
) -> list[GradCase]:
    """One ``GradCase`` per label, the i-th building the i-th of ``build_all()``.

    Lets a table write the cases of one component together (a module and the inputs
    its cases share) while every case still runs, and fails, on its own.
    """
    return [
        GradCase(component, label, lambda i=i: build_all()[i], op) for i, label in enumerate(labels)
    ]
