"""Loss classes: callables that hold their options and call the loss functions.

Like the activation classes they do not derive from ``gradstack.layers.Module``: a
loss has no parameters, and this package does not depend on module 03. Options are
checked when the loss is built, so a typo fails at construction, not at step 1000.
"""

from __future__ import annotations

from typing import Any

from gradstack.tensor import Tensor

from . import functional as F
from .checks import check_ignore_index, check_label_smoothing
from .reduction import check_reduction


class Loss:
    """Base of the loss classes: ``loss(input, target)`` runs ``forward``."""

    def __init__(self, *, reduction: str = "mean") -> None:
        self.reduction = check_reduction(type(self).__name__, reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """The loss of ``input`` against ``target``; each subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def __call__(self, input: Tensor, target: Any) -> Tensor:
        return self.forward(input, target)

    def extra_repr(self) -> str:
        """The options shown in ``repr``."""
        return f"reduction={self.reduction!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class MSELoss(Loss):
    """Mean squared error between an input and a target of the same shape."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """Apply ``mse_loss``."""
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy of logits ``(..., C)`` (classes last) and class indices ``(...)``."""

    def __init__(
        self, *, ignore_index: int = -100, label_smoothing: float = 0.0, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction=reduction)
        self.ignore_index = check_ignore_index(ignore_index)
        self.label_smoothing = check_label_smoothing(label_smoothing)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """Apply ``cross_entropy`` with this loss's options."""
        return F.cross_entropy(
            input,
            target,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        """Show every option."""
        return (
            f"ignore_index={self.ignore_index}, label_smoothing={self.label_smoothing}, "
            f"reduction={self.reduction!r}"
        )


class BCELoss(Loss):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped at -100)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """Apply ``binary_cross_entropy``."""
        return F.binary_cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy of ``sigmoid(input)``, computed stably from the logits."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """Apply ``binary_cross_entropy_with_logits``."""
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)
