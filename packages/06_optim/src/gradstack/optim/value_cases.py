"""One step of each optimizer against its formula (and PyTorch), for tests and ``gradstack check``.

Each ``ValueCase`` (see ``gradstack.tensor.gradcheck_table``) takes one step from the same
float64 parameters and gradients and returns the worst relative error of the updated
parameters; this package's tests run the same list.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from gradstack.tensor import Tensor, ValueCase

from .adam import Adam, AdamW
from .sgd import SGD

LR, MOMENTUM, WEIGHT_DECAY, BETAS, EPS = 0.1, 0.9, 0.05, (0.9, 0.999), 1e-8
P0 = np.random.default_rng(0).uniform(-1.0, 1.0, (3, 4))
G0 = np.random.default_rng(1).uniform(-1.0, 1.0, (3, 4))

#: The optimizers and their options, by name (torch.optim spells them the same).
OPTIMIZERS: dict[str, tuple[type, dict[str, Any]]] = {
    "SGD": (SGD, {"lr": LR, "momentum": MOMENTUM, "weight_decay": WEIGHT_DECAY}),
    "SGD nesterov": (SGD, {"lr": LR, "momentum": MOMENTUM, "nesterov": True}),
    "Adam": (Adam, {"lr": LR, "betas": BETAS, "eps": EPS, "weight_decay": WEIGHT_DECAY}),
    "AdamW": (AdamW, {"lr": LR, "betas": BETAS, "eps": EPS, "weight_decay": WEIGHT_DECAY}),
}


def _rel(ours: np.ndarray, expected: np.ndarray) -> float:
    """Largest absolute difference relative to the largest magnitude of ``expected``."""
    return float(np.max(np.abs(ours - expected)) / max(np.max(np.abs(expected)), 1e-300))


def stepped(name: str) -> np.ndarray:
    """The parameters after one step of optimizer ``name`` from ``P0`` with gradient ``G0``."""
    kind, options = OPTIMIZERS[name]
    p = Tensor(P0.copy(), dtype="float64", requires_grad=True)
    p.grad = Tensor(G0.copy(), dtype="float64")
    kind([p], **options).step()
    return p.data


def _adam_direction(g: np.ndarray) -> np.ndarray:
    """Adam's first bias-corrected step direction: m_hat / (sqrt(v_hat) + eps) with m, v from g."""
    m_hat = (1 - BETAS[0]) * g / (1 - BETAS[0])
    v_hat = (1 - BETAS[1]) * g * g / (1 - BETAS[1])
    return m_hat / (np.sqrt(v_hat) + EPS)


#: The first step of each optimizer written out (the momentum buffer starts as the gradient).
FORMULAS: dict[str, Callable[[], np.ndarray]] = {
    "SGD": lambda: P0 - LR * (G0 + WEIGHT_DECAY * P0),
    "SGD nesterov": lambda: P0 - LR * (1 + MOMENTUM) * G0,
    "Adam": lambda: P0 - LR * _adam_direction(G0 + WEIGHT_DECAY * P0),
    "AdamW": lambda: P0 * (1 - LR * WEIGHT_DECAY) - LR * _adam_direction(G0),
}


def formula_case(name: str) -> Callable[[], float]:
    """One step of ``name`` against its formula."""
    return lambda: _rel(stepped(name), FORMULAS[name]())


def torch_case(name: str) -> Callable[[ModuleType], float]:
    """One step of ``name`` against the same step of ``torch.optim``."""

    def run(torch: ModuleType) -> float:
        _, options = OPTIMIZERS[name]
        p = torch.tensor(P0.copy(), dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(G0.copy(), dtype=torch.float64)
        getattr(torch.optim, name.split()[0])([p], **options).step()
        return _rel(stepped(name), p.detach().numpy())

    return run


VALUE_CASES = [
    *(ValueCase("step = formula", name, formula_case(name), 1e-12) for name in OPTIMIZERS),
    *(ValueCase("step = PyTorch", name, torch_case(name), 1e-10, True) for name in OPTIMIZERS),
]
