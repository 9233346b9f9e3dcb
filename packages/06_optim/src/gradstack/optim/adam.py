"""Adam and AdamW: the reference update, four lines of math per parameter.

With kernels enabled (gradstack.tensor.kernels_enabled) ``step`` runs the kernel of
gradstack.optim.kernels instead: the same arithmetic on flat vectors, in place, with
bit-identical results.
"""

from __future__ import annotations

import functools
import math
from types import ModuleType
from typing import Any

import numpy as np

from gradstack.tensor import Tensor, kernels_enabled, load_kernels

from .optimizer import Optimizer, ParamsArg


class Adam(Optimizer):
    """Adam (Kingma & Ba) with L2 weight decay added to the gradient, as ``torch.optim.Adam``."""

    decoupled = False

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        super()._check_options(group)
        beta1, beta2 = group["betas"]
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(
                f"{type(self).__name__}: betas must be in [0, 1), got {group['betas']}"
            )
        if group["eps"] < 0:
            raise ValueError(f"{type(self).__name__}: eps must be >= 0, got {group['eps']}")

    def step(self) -> None:
        """One Adam update of every parameter that has a gradient, in place."""
        kernels = _kernels()
        if kernels is not None and kernels_enabled():
            kernels.adam_step(self)
            return
        for index, p, group in self._indexed_params():
            state = self._state_for(index, p)
            self._init_moments(p, state)
            state["step"] += 1
            self._update(p, state, group)

    @staticmethod
    def _init_moments(p: Tensor, state: dict) -> None:
        """Zero moments on a parameter's first step."""
        if "exp_avg" not in state:
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)

    def _update(self, p: Tensor, state: dict, group: dict) -> None:
        """Adam's update of one parameter ``p`` with gradient ``g`` at step t (from 1)::

            m = b1 m + (1 - b1) g                     first moment (state["exp_avg"])
            v = b2 v + (1 - b2) g**2                  second moment (state["exp_avg_sq"])
            m_hat = m / (1 - b1**t), v_hat = v / (1 - b2**t)
            p = p - lr m_hat / (sqrt(v_hat) + eps)

        Weight decay first: AdamW (``self.decoupled``) shrinks ``p *= 1 - lr decay``,
        Adam adds ``decay p`` to ``g``. The parameter changes in place (``p.data``).
        """
        lr, eps, decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        step = state["step"]
        grad = p.grad.data
        # HINT: never write into p.grad.data (the caller owns it). PyTorch folds the bias
        # HINT: corrections into the step size and into sqrt(v) (dividing by sqrt(1 - b2**t));
        # HINT: that order matches its results to the last bit. Test: tox -e 06_optim
        # BEGIN SOLUTION
        if decay and self.decoupled:
            p.data *= 1 - lr * decay  # AdamW: decay the weights themselves
        elif decay:
            grad = grad + decay * p.data  # Adam: an L2 penalty in the gradient
        m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
        v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * (grad * grad)
        denom = np.sqrt(v) / math.sqrt(1 - beta2**step) + eps  # sqrt(v_hat) + eps
        p.data -= lr / (1 - beta1**step) * (m / denom)  # lr m_hat / (sqrt(v_hat) + eps)
        # END SOLUTION


@functools.cache
def _kernels() -> ModuleType | None:
    """gradstack.optim.kernels, or None in a copy without kernels (looked up once)."""
    return load_kernels(__package__)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``."""

    decoupled = True

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
