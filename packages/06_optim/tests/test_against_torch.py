"""Same losses as torch.optim over 20 steps (skipped where torch is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack import optim


def _torch_losses(torch, problem, name: str, kwargs: dict, steps: int) -> list[float]:
    w = torch.tensor(problem.w.data, requires_grad=True)
    b = torch.tensor(problem.b.data, requires_grad=True)
    x, y = torch.tensor(problem.x), torch.tensor(problem.y)
    opt = getattr(torch.optim, name)([w, b], **kwargs)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((x @ w.T + b - y) ** 2).mean()
        loss.backward()
        losses.append(loss.item())
        opt.step()
    return losses


@pytest.mark.torch
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
        ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        ("Adam", {"lr": 0.05, "weight_decay": 0.01}),
        ("AdamW", {"lr": 0.05, "weight_decay": 0.1}),
    ],
)
def test_same_losses_as_torch(name, kwargs, make_problem):
    torch = pytest.importorskip("torch")
    ours = make_problem()
    opt = getattr(optim, name)(ours.params, **kwargs)
    losses = []
    for _ in range(20):
        losses.append(ours.loss_and_grads())
        opt.step()
    expected = _torch_losses(torch, make_problem(), name, kwargs, 20)
    np.testing.assert_allclose(losses, expected, rtol=1e-5, atol=1e-6)
