"""Activation classes: parameter-free callables that wrap the functions.

They do not derive from ``gradstack.layers.Module``: module 03 comes after this one
in the course (and depends on it), so ``Activation`` is a tiny base of its own with
``forward``, ``__call__`` and a PyTorch-style ``repr``. ``Sequential`` accepts any
callable, so these fit in a model all the same.
"""

from __future__ import annotations

from gradstack.tensor import Tensor

from . import functional as F


class Activation:
    """Base of the activation classes: calling the object runs ``forward``."""

    def forward(self, x: Tensor) -> Tensor:
        """The activation of ``x``; each subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def extra_repr(self) -> str:
        """The constructor arguments shown in ``repr`` (none by default)."""
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class ReLU(Activation):
    """``max(x, 0)`` elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply ReLU."""
        return F.relu(x)


class Sigmoid(Activation):
    """``1 / (1 + exp(-x))`` elementwise, stable at any magnitude."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply the logistic function."""
        return F.sigmoid(x)


class Tanh(Activation):
    """Hyperbolic tangent elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply tanh."""
        return F.tanh(x)


class GELU(Activation):
    """Gaussian error linear unit; ``approximate="tanh"`` (GPT-2's form, default) or ``"none"``."""

    def __init__(self, approximate: str = "tanh") -> None:
        self.approximate = F.check_approximate(approximate)

    def forward(self, x: Tensor) -> Tensor:
        """Apply GELU."""
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        """Show the approximation."""
        return f"approximate={self.approximate!r}"


class _AlongDim(Activation):
    """An activation that normalizes along one dim, checked to be an int when built."""

    def __init__(self, dim: int = -1) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"{type(self).__name__}: dim must be an int, got {dim!r}")
        self.dim = dim

    def extra_repr(self) -> str:
        """Show the dim."""
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """Probabilities along ``dim`` (default the last)."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply softmax along ``self.dim``."""
        return F.softmax(x, dim=self.dim)


class LogSoftmax(_AlongDim):
    """Log-probabilities along ``dim`` (default the last)."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply log-softmax along ``self.dim``."""
        return F.log_softmax(x, dim=self.dim)
