"""Runs the rows of a package's gradient-check table (``gradstack.<pkg>.gradcheck_cases``).

The tables are data (see ``gradstack.tensor.gradcheck_table``); this is the one place
that runs them, for the packages' own tests and for ``gradstack check`` alike. A case
passes when the backward pass reaches every input that requires grad, the case records
the op it names, and ``check_gradients`` agrees with float64 central differences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from gradstack.tensor import GradCase, Tensor, TorchCase

from .engine import grad
from .gradcheck import check_gradients

#: Tolerances of a PyTorch comparison (both sides compute in float64).
TORCH_RTOL = 1e-6
TORCH_ATOL = 1e-8


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one gradient-check case."""

    passed: bool
    max_rel_error: float
    note: str = ""


@dataclass(frozen=True)
class Comparison:
    """One compared array of a PyTorch comparison: the output or one input's gradient."""

    what: str
    rel_error: float
    same: bool


def unreached_inputs(fn: Any, inputs: list[Any]) -> list[int]:
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


def run_case(case: GradCase) -> CaseResult:
    """Check one case's gradient flow, its op and its values (exceptions propagate)."""
    fn, inputs = case.build()
    cut_off = unreached_inputs(fn, inputs)
    result = check_gradients(fn, inputs, **case.tolerances)
    if cut_off:
        return CaseResult(False, result.max_rel_error, f"no gradient reaches input(s) {cut_off}")
    if case.op and case.op not in result.ops:
        return CaseResult(False, result.max_rel_error, f"the case does not record op {case.op!r}")
    note = "" if result.passed else f"gradcheck failed for {case.id}: {result.describe()}"
    return CaseResult(result.passed, result.max_rel_error, note)


def relative_error(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Largest absolute difference relative to the largest magnitude in ``theirs``.

    The scale has a floor of ``TORCH_ATOL / TORCH_RTOL``, so an array that is zero up to
    rounding on both sides (the key bias's gradient in attention) does not read as a
    large error.
    """
    if ours.shape != theirs.shape:
        return math.inf
    scale = max(float(np.max(np.abs(theirs), initial=0.0)), TORCH_ATOL / TORCH_RTOL)
    return float(np.max(np.abs(ours - theirs), initial=0.0)) / scale


def compare_with_torch(case: TorchCase, torch: ModuleType) -> list[Comparison]:
    """The output and every input gradient of ``case``, ours against PyTorch's."""
    out, inputs = case.ours()
    t_out, t_inputs = case.theirs(torch)
    weights = np.random.default_rng(0).standard_normal(out.shape)
    grads = grad(out, inputs, grad_outputs=weights, allow_unused=True)
    t_grads = torch.autograd.grad(
        t_out, t_inputs, grad_outputs=torch.tensor(weights), allow_unused=True
    )
    pairs = [("output", out.data, t_out.detach().numpy())]
    for index, (g, t_g, x) in enumerate(zip(grads, t_grads, inputs)):
        mine = np.zeros(x.shape) if g is None else g.data
        other = np.zeros(x.shape) if t_g is None else t_g.numpy()
        pairs.append((f"gradient of input {index}", mine, other))
    return [
        Comparison(
            what,
            relative_error(ours, theirs),
            ours.shape == theirs.shape and np.allclose(ours, theirs, TORCH_RTOL, TORCH_ATOL),
        )
        for what, ours, theirs in pairs
    ]
