"""Gradient checks of gradstack.losses (rules in gradstack.autograd)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from gradstack.losses import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
from gradstack.tensor import Built, GradCase, Tensor, TorchCase, torch_leaf

TARGETS = np.array([[0, 4, 4], [2, -100, 1]])  # (B=2, T=3): repeats and one ignored


REDUCTIONS = ("mean", "sum", "none")
CE, ELEMENTWISE_ROW = "cross_entropy", "mse, BCE, BCE with logits"


def _leaf(array: Any) -> Tensor:
    """A float64 leaf that requires grad."""
    return Tensor(np.array(array, dtype=np.float64), dtype="float64", requires_grad=True)


def _case(
    component: str, label: str, op: str, make: Callable[[np.random.Generator], Built]
) -> GradCase:
    """A case whose inputs ``make`` draws from a generator seeded by the label."""
    seed = sum(label.encode())
    return GradCase(component, label, lambda: make(np.random.default_rng(seed)), op)


def class_targets(
    rng: np.random.Generator, shape: Any, classes: int, ignored: int = 0
) -> np.ndarray:
    """Random class ids with ``ignored`` of them set to the ignore index -100."""
    target = rng.integers(0, classes, size=shape)
    flat = target.reshape(-1)
    flat[rng.choice(flat.size, size=ignored, replace=False)] = -100
    return target


def _ce_2d(
    reduction: str, smoothing: float, ignored: int
) -> Callable[[np.random.Generator], Built]:
    """(N, C) logits, some targets ignored."""

    def make(rng: np.random.Generator) -> Built:
        logits, target = _leaf(rng.standard_normal((6, 5)) * 2), class_targets(rng, 6, 5, ignored)
        options = {"label_smoothing": smoothing, "reduction": reduction}
        return (lambda x: cross_entropy(x, target, **options)), [logits]

    return make


def _ce_3d(reduction: str, smoothing: float) -> Callable[[np.random.Generator], Built]:
    """(B, T, C) logits with two ignored targets."""

    def make(rng: np.random.Generator) -> Built:
        logits, target = _leaf(rng.standard_normal((2, 3, 4))), class_targets(rng, (2, 3), 4, 2)
        options = {"label_smoothing": smoothing, "reduction": reduction}
        return (lambda x: cross_entropy(x, target, **options)), [logits]

    return make


def _ce_special() -> list[GradCase]:
    """An ignore_index that is a class, repeated targets, a linear map before, 1-D logits."""
    repeated = np.array([2, 2, 0, 2, 1])

    def through_linear(rng: np.random.Generator) -> Built:
        x, w = _leaf(rng.standard_normal((2, 4, 3))), _leaf(rng.standard_normal((3, 6)))
        target = class_targets(rng, (2, 4), 6, ignored=1)
        return (lambda a, b: CrossEntropyLoss(label_smoothing=0.05)(a @ b, target)), [x, w]

    return [
        _case(CE, "ignore_index is a class", "cross_entropy",
              lambda rng: ((lambda x: cross_entropy(x, repeated, ignore_index=0)),
                           [_leaf(rng.standard_normal((5, 3)))])),
        _case(CE, "through a linear map", "cross_entropy", through_linear),
        _case(CE, "1-D logits", "cross_entropy",
              lambda rng: ((lambda x: cross_entropy(x, 1)), [_leaf(rng.standard_normal(4))])),
        _case(CE, "1-D logits, none", "cross_entropy",
              lambda rng: ((lambda x: cross_entropy(x, 3, reduction="none")),
                           [_leaf(rng.standard_normal(4))])),
        _case(CE, "module, (B, T, C), repeats", "cross_entropy",
              lambda rng: (CrossEntropyLoss(label_smoothing=0.1),
                           [_leaf(rng.uniform(-3, 3, (2, 3, 5))), Tensor(TARGETS)])),
    ]  # fmt: skip


def _cross_entropy() -> list[GradCase]:
    """Every reduction, with and without label smoothing and ignored targets."""
    cases = [
        _case(CE, f"(N, C) {r} smoothing {s} ignored {i}", "cross_entropy", _ce_2d(r, s, i))
        for r in REDUCTIONS
        for s in (0.0, 0.2)
        for i in (0, 2)
    ]
    cases += [
        _case(CE, f"(B, T, C) {r} smoothing {s}", "cross_entropy", _ce_3d(r, s))
        for r in REDUCTIONS
        for s in (0.0, 0.1)
    ]
    return cases + _ce_special()


def _bce_module(rng: np.random.Generator) -> Built:
    """BCEWithLogitsLoss on logits and 0/1 labels that need no gradient."""
    labels = Tensor((rng.random((3, 4)) > 0.5) * 1.0, dtype="float64")
    return BCEWithLogitsLoss(), [_leaf(rng.uniform(-4, 4, (3, 4))), labels]


#: The elementwise losses by op name, and how to draw an input and a target for each.
ELEMENTWISE: dict[str, Callable[..., Tensor]] = {
    "mse_loss": mse_loss,
    "binary_cross_entropy": binary_cross_entropy,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
}


def elementwise_inputs(rng: np.random.Generator, name: str, shape: tuple[int, ...]) -> list[Tensor]:
    """An input in the loss's domain and a target, both requiring grad."""
    if name == "binary_cross_entropy":
        return [_leaf(rng.uniform(0.05, 0.95, shape)), _leaf(rng.uniform(0, 1, shape))]
    if name == "binary_cross_entropy_with_logits":
        return [_leaf(rng.standard_normal(shape) * 3), _leaf(rng.uniform(0, 1, shape))]
    return [_leaf(rng.standard_normal(shape)), _leaf(rng.standard_normal(shape))]


def _elementwise(name: str, reduction: str, shape: tuple[int, ...]) -> GradCase:
    """Gradients to the input and the target of one elementwise loss."""

    def make(rng: np.random.Generator) -> Built:
        fn = ELEMENTWISE[name]
        return (lambda a, b: fn(a, b, reduction=reduction)), elementwise_inputs(rng, name, shape)

    return _case(ELEMENTWISE_ROW, f"{name} {reduction} {shape}", name, make)


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
    *_cross_entropy(),
    *(
        _elementwise(name, reduction, shape)
        for name in ELEMENTWISE
        for reduction in REDUCTIONS
        for shape in [(5,), (3, 4), (2, 3, 2), ()]
    ),
    _case(
        ELEMENTWISE_ROW, "BCEWithLogitsLoss module", "binary_cross_entropy_with_logits", _bce_module
    ),
]
TORCH_CASES = _torch_cases()
