"""What a gradient check is, how one runs, and the table row it becomes.

A *case* is a function and its float64 inputs. Running it checks two things:

- **gradient flow**: the graph reaches every input that requires grad (a detach, an
  op run without recording, a rule returning None would cut it off);
- **value**: ``gradstack.autograd.check_gradients`` agrees with float64 central
  differences within its tolerances.

A *component* (``Linear``, ``matmul``, ...) is a list of cases and becomes one row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from gradstack.autograd import check_gradients, grad
from gradstack.tensor import Tensor

from .row import Row

Case = tuple[Callable[..., Tensor], Sequence[Tensor]]
CaseBuilder = Callable[[], list[Case]]


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


def gradients_flow(fn: Callable[..., Tensor], inputs: Sequence[Tensor]) -> list[int]:
    """Indices of inputs requiring grad that the backward pass does not reach.

    A gradient of zeros counts as reached: some are exactly zero by symmetry (the key
    bias of attention shifts every score of a query equally); their values are
    compared with finite differences like all others.
    """
    wanted = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    out = fn(*inputs)
    if not out.requires_grad:
        return wanted
    weights = np.random.default_rng(1).standard_normal(out.shape)
    grads = grad(out, [inputs[i] for i in wanted], grad_outputs=weights, allow_unused=True)
    return [i for i, g in zip(wanted, grads) if g is None]


def _error_note(error: BaseException) -> str:
    """A short description of an exception raised by a check."""
    return f"{type(error).__name__}: {error}".splitlines()[0][:120]


def gradient_row(module: str, component: str, build: CaseBuilder) -> Row:
    """Run every case of a component; an exception counts as a failed check, with a note."""
    try:
        cases = build()
    except Exception as error:  # noqa: BLE001 (a broken module is a failed row, not a crash)
        return Row(module, component, 0, 1, math.nan, False, _error_note(error))
    row = Row(module, component, 0, len(cases))
    for fn, inputs in cases:
        try:
            cut_off = gradients_flow(fn, inputs)
            result = check_gradients(fn, inputs)
        except Exception as error:  # noqa: BLE001
            row.flow = False
            row.worst_rel = math.nan
            row.note = row.note or _error_note(error)
            continue
        if cut_off:
            row.flow = False
            row.note = row.note or f"no gradient reaches input(s) {cut_off}"
        if result.passed and not cut_off:
            row.passed += 1
        elif not result.passed:
            row.note = row.note or result.describe()
        if not math.isnan(row.worst_rel):
            row.worst_rel = max(row.worst_rel, result.max_rel_error)
    return row


def module_case(module: object, call: Callable[[], Tensor], *extra: Tensor) -> Case:
    """A case over a module's parameters (and ``extra`` inputs); ``call`` runs the module."""
    params = list(module.parameters())  # type: ignore[attr-defined]
    return (lambda *_: call()), [*extra, *params]
