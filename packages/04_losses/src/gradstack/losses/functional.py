"""The loss functions on Tensors: check the arguments, then apply one fused op each."""

from __future__ import annotations

from typing import Any

from gradstack.tensor import Tensor, apply

from . import cross_entropy_op, elementwise_ops
from .checks import (
    check_class_target,
    check_float_target,
    check_ignore_index,
    check_input,
    check_label_smoothing,
)
from .reduction import check_reduction


def mse_loss(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(input - target)**2``, averaged, summed or kept per element."""
    reduction = check_reduction("mse_loss", reduction)
    input = check_input("mse_loss", input)
    target = check_float_target("mse_loss", input, target)
    return apply(elementwise_ops.mse_loss_op, input, target, reduction=reduction)


def cross_entropy(
    input: Tensor,
    target: Any,
    *,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Tensor:
    """Softmax cross-entropy of logits ``(..., C)`` (classes LAST) and class indices ``(...)``.

    One fused, overflow-free op. Targets equal to ``ignore_index`` add nothing and are
    left out of the mean's count; ``label_smoothing`` mixes the one-hot target with the
    uniform distribution over the C classes, as in PyTorch.
    """
    reduction = check_reduction("cross_entropy", reduction)
    ignore_index = check_ignore_index(ignore_index)
    label_smoothing = check_label_smoothing(label_smoothing)
    input = check_input("cross_entropy", input)
    indices = check_class_target(input, target)
    return apply(
        cross_entropy_op.cross_entropy_op,
        input,
        target=indices,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )


def binary_cross_entropy(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:
    """BCE of probabilities in [0, 1]: ``-(y log p + (1 - y) log(1 - p))``, logs clamped at -100."""
    reduction = check_reduction("binary_cross_entropy", reduction)
    input = check_input("binary_cross_entropy", input)
    target = check_float_target("binary_cross_entropy", input, target)
    return apply(elementwise_ops.binary_cross_entropy_op, input, target, reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Tensor, target: Any, *, reduction: str = "mean"
) -> Tensor:
    """BCE of ``sigmoid(input)`` in one stable op: ``max(x, 0) - x y + log1p(exp(-|x|))``."""
    op = "binary_cross_entropy_with_logits"
    reduction = check_reduction(op, reduction)
    input = check_input(op, input)
    target = check_float_target(op, input, target)
    return apply(
        elementwise_ops.binary_cross_entropy_with_logits_op, input, target, reduction=reduction
    )
