"""gradstack.losses: MSELoss, CrossEntropyLoss, BCELoss, BCEWithLogitsLoss (module 04).

Every loss is one registered op with the reduction fused in; cross-entropy is one
fused, stable op on logits ``(..., C)`` with the classes in the last dim. Gradient
rules live in gradstack-autograd (``rules/losses.py``).
"""

from gradstack.tensor import load_kernels

from .__about__ import __version__
from .elementwise_ops import clamped_logs
from .functional import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
from .modules import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .reduction import REDUCTIONS

__all__ = [
    "REDUCTIONS",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Loss",
    "MSELoss",
    "__version__",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "clamped_logs",
    "cross_entropy",
    "mse_loss",
]

load_kernels(__name__)  # gradstack.losses.kernels (fused cross-entropy), when this copy has one
