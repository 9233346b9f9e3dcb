"""Gradient checks of gradstack.losses (rules in gradstack.autograd)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from gradstack.losses import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    binary_cross_entropy,
    cross_entropy,
    mse_loss,
)
from gradstack.tensor import Tensor
from gradstack.tensor.gradcheck_table import (
    Built,
    TorchCase,
    cases_of,
    f64,
    torch_leaf,
)

MODULE = "losses"

TARGETS = np.array([[0, 4, 4], [2, -100, 1]])  # (B=2, T=3): repeats and one ignored


def _cross_entropy() -> list[Built]:
    """Cross-entropy on (B, T, C) logits: mean, sum, ignore_index, label smoothing."""
    targets = Tensor(TARGETS)
    return [
        (lambda z: cross_entropy(z, targets), [f64((2, 3, 5), 1, -3.0, 3.0)]),
        (lambda z: cross_entropy(z, targets, reduction="sum"), [f64((2, 3, 5), 2, -3.0, 3.0)]),
        (CrossEntropyLoss(label_smoothing=0.1), [f64((2, 3, 5), 3, -3.0, 3.0), targets]),
        (lambda z: cross_entropy(z, targets, reduction="none"), [f64((2, 3, 5), 4, -3.0, 3.0)]),
    ]


def _regression() -> list[Built]:
    """MSE against a target that also requires grad, and with reduction='none'."""
    return [
        (mse_loss, [f64((3, 4), 5), f64((3, 4), 6)]),
        (lambda a: mse_loss(a, np.ones((3, 4)), reduction="none"), [f64((3, 4), 7)]),
    ]


def _binary() -> list[Built]:
    """BCE on probabilities kept inside (0, 1), and BCE with logits."""
    labels = (np.random.default_rng(8).random((3, 4)) > 0.5).astype(np.float64)
    return [
        (lambda p: binary_cross_entropy(p, labels), [f64((3, 4), 9, 0.1, 0.9)]),
        (BCEWithLogitsLoss(), [f64((3, 4), 10, -4.0, 4.0), Tensor(labels, dtype="float64")]),
    ]


def _torch_cases() -> list[TorchCase]:
    """Each loss against torch.nn.functional on the same values."""
    z0 = np.random.default_rng(11).uniform(-3, 3, (2, 3, 5))
    p0 = np.random.default_rng(12).uniform(0.1, 0.9, (3, 4))
    y0 = (np.random.default_rng(13).random((3, 4)) > 0.5).astype(np.float64)

    def ce_ours() -> tuple[Tensor, list[Tensor]]:
        z = Tensor(z0, dtype="float64", requires_grad=True)
        return cross_entropy(z, Tensor(TARGETS), label_smoothing=0.1), [z]

    def ce_theirs(torch: ModuleType) -> tuple[object, list[object]]:
        z = torch_leaf(torch, z0)
        logits = z.reshape(-1, 5)  # (B*T, C): torch wants classes in dim 1
        out = torch.nn.functional.cross_entropy(
            logits, torch.tensor(TARGETS.reshape(-1)), label_smoothing=0.1
        )
        return out, [z]

    def bce_ours() -> tuple[Tensor, list[Tensor]]:
        p = Tensor(p0, dtype="float64", requires_grad=True)
        q = Tensor(z0[0, :, :4], dtype="float64", requires_grad=True)
        return binary_cross_entropy(p, y0) + BCEWithLogitsLoss()(q, y0) + mse_loss(p, q), [p, q]

    def bce_theirs(torch: ModuleType) -> tuple[object, list[object]]:
        functional = torch.nn.functional
        p, q, y = torch_leaf(torch, p0), torch_leaf(torch, z0[0, :, :4]), torch.tensor(y0)
        out = (
            functional.binary_cross_entropy(p, y)
            + functional.binary_cross_entropy_with_logits(q, y)
            + functional.mse_loss(p, q)
        )
        return out, [p, q]

    return [
        TorchCase("cross_entropy", ce_ours, ce_theirs),
        TorchCase("bce + mse", bce_ours, bce_theirs),
    ]


GRADCHECK_CASES = [
    *cases_of(
        "cross_entropy",
        _cross_entropy,
        ("mean, ignore_index", "sum", "module, label smoothing", "reduction none"),
    ),
    *cases_of("mse_loss", _regression, ("target requires grad", "reduction none")),
    *cases_of("BCE, BCE with logits", _binary, ("probabilities", "logits module")),
]
TORCH_CASES = _torch_cases()
