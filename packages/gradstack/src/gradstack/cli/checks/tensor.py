"""Gradient checks of gradstack.tensor's ops (their rules live in gradstack.autograd)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from gradstack.tensor import Tensor, cat, split, stack, where

from .common import Case, Row, away_from, f64, gradient_row
from .torch_common import TorchCase, torch_leaf, torch_row

MODULE = "tensor"


def _arithmetic() -> list[Case]:
    """+ - * / ** with broadcasting and Python scalars on both sides."""
    return [
        (
            lambda a, b, c: (a + b) * c - a / (c * c + 1.0),
            [f64((2, 3, 4), 1), f64((4,), 2), f64((3, 1), 3)],
        ),
        (
            lambda a, b: (a * a + 1.0) ** 1.5 - 2.0 / (b * b + 1.0) + 3.0 - a,
            [f64((3, 4), 4), f64((3, 4), 5)],
        ),
        (lambda a: -(a**3) * 0.5, [f64((2, 5), 6)]),
    ]


def _matmul() -> list[Case]:
    """Batched matmul with broadcast batch dims."""
    return [
        (lambda a, b: a @ b, [f64((2, 3, 4, 5), 7), f64((5, 2), 8)]),
        (lambda a, b: a.matmul(b), [f64((3, 4), 9), f64((2, 4, 5), 10)]),
    ]


def _reductions() -> list[Case]:
    """sum / mean / max / var over negative, positive and all dims."""
    distinct = Tensor(
        np.random.default_rng(11).permutation(24).reshape(2, 3, 4) / 7.0,
        dtype="float64",
        requires_grad=True,
    )  # no ties for max
    return [
        (lambda x: x.sum(dim=1, keepdim=True) * x, [f64((2, 3, 4), 12)]),
        (lambda x: x.mean(dim=-1) + x.sum(), [f64((2, 3, 4), 13)]),
        (lambda x: x.max(dim=0) + x.max(dim=-1, keepdim=True).sum(), [distinct]),
        (lambda x: x.var(dim=1), [f64((3, 5), 14)]),
    ]


def _elementwise() -> list[Case]:
    """exp, log, sqrt, tanh, abs, clip (inputs kept away from kinks)."""
    positive = f64((3, 4), 15, 0.5, 2.0)
    return [
        (lambda x: x.exp() + x.tanh(), [f64((3, 4), 16)]),
        (lambda x: x.log() * x.sqrt(), [positive]),
        (lambda x: x.abs() + x.clip(-1.0, 1.0), [away_from((4, 5), 17, (-1.0, 0.0, 1.0), 0.05)]),
    ]


def _shape() -> list[Case]:
    """reshape, transpose, permute, T, unsqueeze, squeeze, expand."""
    return [
        (lambda x: x.reshape(4, 6).transpose(0, 1).permute(1, 0) * 2.0, [f64((2, 3, 4), 18)]),
        (lambda x: x.T.unsqueeze(0).expand(3, 4, 2).squeeze(), [f64((2, 4), 19)]),
        (lambda x: x.unsqueeze(1).squeeze(1).transpose() * x, [f64((3, 3), 20)]),
    ]


def _indexing() -> list[Case]:
    """Integer arrays with repeats, slices, negative ints, boolean masks, masked_fill."""
    index = np.array([0, 2, 2, 1, 0])
    mask = np.random.default_rng(21).random((3, 4)) > 0.5
    return [
        (lambda x: x[index] * 1.5, [f64((3, 4), 22)]),
        (lambda x: x[:, 1:3] + x[-1, :2], [f64((3, 4), 23)]),
        (lambda x: x[mask] * 2.0, [f64((3, 4), 24)]),
        (lambda x: x.masked_fill(mask, 0.0) * x, [f64((3, 4), 25)]),
    ]


def _joining() -> list[Case]:
    """cat, stack, split, where."""
    condition = np.random.default_rng(26).random((2, 3)) > 0.5
    return [
        (lambda a, b: cat([a, b, a], dim=1), [f64((2, 3), 27), f64((2, 2), 28)]),
        (lambda a, b: stack([a, b], dim=-1), [f64((2, 3), 29), f64((2, 3), 30)]),
        (lambda x: split(x, [1, 3], dim=1)[1] * split(x, 2, dim=1)[0].sum(), [f64((2, 4), 31)]),
        (lambda a, b: where(condition, a, b * 2.0), [f64((2, 3), 32), f64((3,), 33)]),
    ]


def _torch_cases() -> list[TorchCase]:
    """One composite of many ops, against the same expression in PyTorch."""
    a0 = np.random.default_rng(40).uniform(-1, 1, (2, 3, 4))
    b0 = np.random.default_rng(41).uniform(-1, 1, (4, 5))

    def ours() -> tuple[Tensor, list[Tensor]]:
        a, b = (
            Tensor(a0, dtype="float64", requires_grad=True),
            Tensor(b0, dtype="float64", requires_grad=True),
        )
        h = (a @ b).tanh() * 2.0 - (a.exp().sum(dim=-1, keepdim=True) + 1.0).log()
        return h.transpose(1, 2).reshape(2, 15)[:, 2:9] / (b.abs().mean() + 1.0), [a, b]

    def theirs(torch: ModuleType) -> tuple[object, list[object]]:
        a, b = torch_leaf(torch, a0), torch_leaf(torch, b0)
        h = (a @ b).tanh() * 2.0 - (a.exp().sum(dim=-1, keepdim=True) + 1.0).log()
        return h.transpose(1, 2).reshape(2, 15)[:, 2:9] / (b.abs().mean() + 1.0), [a, b]

    return [("composite", ours, theirs)]


def rows(torch: ModuleType | None) -> list[Row]:
    """The module's table rows."""
    table = [
        ("arithmetic (+ - * / **)", _arithmetic),
        ("matmul", _matmul),
        ("reductions", _reductions),
        ("exp log sqrt tanh abs clip", _elementwise),
        ("shape ops", _shape),
        ("indexing, masked_fill", _indexing),
        ("cat stack split where", _joining),
    ]
    found = [gradient_row(MODULE, name, build) for name, build in table]
    if torch is not None:
        found.append(torch_row(MODULE, torch, _torch_cases()))
    return found
