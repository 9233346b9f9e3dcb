"""A small least-squares problem whose gradient is computed by hand, so the optimizer
tests need no autograd: loss = mean((x @ w.T + b - y) ** 2)."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.tensor import Tensor


class Problem:
    """Data, parameters, and a hand-written gradient for them."""

    def __init__(self, seed: int = 0, dtype: str = "float32") -> None:
        rng = np.random.default_rng(seed)
        self.x = rng.standard_normal((16, 5)).astype(dtype)
        self.y = rng.standard_normal((16, 3)).astype(dtype)
        self.w = Tensor(rng.standard_normal((3, 5)), requires_grad=True, dtype=dtype)
        self.b = Tensor(rng.standard_normal(3), requires_grad=True, dtype=dtype)

    @property
    def params(self) -> list[Tensor]:
        return [self.w, self.b]

    def loss_and_grads(self) -> float:
        """Set ``.grad`` of both parameters and return the loss."""
        residual = self.x @ self.w.data.T + self.b.data - self.y
        scale = 2.0 / residual.size
        self.w.grad = Tensor(scale * residual.T @ self.x, dtype=self.w.dtype)
        self.b.grad = Tensor(scale * residual.sum(0), dtype=self.b.dtype)
        return float(np.mean(residual**2))


@pytest.fixture
def problem() -> Problem:
    return Problem()


@pytest.fixture
def make_problem():
    """The Problem class, for tests that need several identical problems."""
    return Problem
