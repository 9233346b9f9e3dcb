"""Comparing a module with PyTorch: same float64 inputs, same outputs, same gradients.

A comparison case gives both sides as functions returning ``(output, inputs)``; the
gradients of ``sum(output * R)`` (one fixed random ``R``) are compared input by input.
Each compared array (the output, each gradient) is one check of the row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from gradstack.autograd import grad
from gradstack.tensor import Tensor

from .common import Row

RTOL = 1e-6
ATOL = 1e-8

OursFn = Callable[[], tuple[Tensor, list[Tensor]]]
TheirsFn = Callable[[ModuleType], tuple[Any, list[Any]]]
TorchCase = tuple[str, OursFn, TheirsFn]


def torch_leaf(torch: ModuleType, array: Any, requires_grad: bool = True) -> Any:
    """A float64 torch tensor holding a copy of ``array`` (a Tensor or an ndarray)."""
    data = array.data if isinstance(array, Tensor) else np.asarray(array)
    return torch.tensor(np.array(data, dtype=np.float64), requires_grad=requires_grad)


def _pairs(case: TorchCase, torch: ModuleType) -> list[tuple[np.ndarray, np.ndarray]]:
    """(ours, theirs) for the output and every input gradient of one case."""
    _, ours, theirs = case
    out, inputs = ours()
    t_out, t_inputs = theirs(torch)
    weights = np.random.default_rng(0).standard_normal(out.shape)
    grads = grad(out, inputs, grad_outputs=weights, allow_unused=True)
    t_grads = torch.autograd.grad(
        t_out, t_inputs, grad_outputs=torch.tensor(weights), allow_unused=True
    )
    pairs = [(out.data, t_out.detach().numpy())]
    for g, t_g, x in zip(grads, t_grads, inputs):
        mine = np.zeros(x.shape) if g is None else g.data
        other = np.zeros(x.shape) if t_g is None else t_g.numpy()
        pairs.append((mine, other))
    return pairs


def relative_error(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Largest absolute difference relative to the largest magnitude in ``theirs``.

    The scale has a floor of ``ATOL / RTOL``, so an array that is zero up to rounding
    on both sides (the key bias's gradient in attention) does not read as a large error.
    """
    if ours.shape != theirs.shape:
        return math.inf
    scale = max(float(np.max(np.abs(theirs), initial=0.0)), ATOL / RTOL)
    return float(np.max(np.abs(ours - theirs), initial=0.0)) / scale


def torch_row(module: str, torch: ModuleType, cases: list[TorchCase]) -> Row:
    """One row: every output and gradient of every case against PyTorch."""
    row = Row(module, "matches PyTorch", 0, 0)
    for case in cases:
        try:
            pairs = _pairs(case, torch)
        except Exception as error:  # noqa: BLE001 (a broken case is a failed check)
            row.total += 1
            row.flow = False
            row.note = row.note or f"{case[0]}: {type(error).__name__}: {error}".splitlines()[0]
            continue
        for index, (ours, theirs) in enumerate(pairs):
            row.total += 1
            same = ours.shape == theirs.shape and np.allclose(ours, theirs, RTOL, ATOL)
            row.worst_rel = max(row.worst_rel, relative_error(ours, theirs))
            if same:
                row.passed += 1
            else:
                what = "output" if index == 0 else f"gradient of input {index - 1}"
                row.note = row.note or f"{case[0]}: {what} differs from PyTorch"
    return row
