"""Adam and AdamW, with the update written in place on preallocated buffers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradstack.tensor import Tensor

from .flat import FlatGroup, can_flatten
from .optimizer import Optimizer, ParamsArg

_MOMENTS = ("exp_avg", "exp_avg_sq")


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
        self._flat_groups: dict[int, FlatGroup] = {}

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
        """One Adam update of every parameter that has a gradient, in place.

        A group whose parameters all have gradients and share one step count is updated
        as one flat vector (gradstack.optim.flat), else tensor by tensor; both run
        ``_update``, so the results are the same bit for bit.
        """
        first = 0
        for number, group in enumerate(self.param_groups):
            params = group["params"]
            indices = range(first, first + len(params))
            first += len(params)
            if can_flatten(params, [self.state.get(i) for i in indices]):
                states = [self._state_for(i, p) for i, p in zip(indices, params)]
                self._step_flat(number, group, states)
                continue
            for i, p in zip(indices, params):
                if p.grad is not None:
                    self._step_one(p, self._state_for(i, p), group)

    def _step_one(self, p: Tensor, state: dict, group: dict) -> None:
        """Update one parameter, creating its moments on its first step."""
        if "exp_avg" not in state:
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        self._update(p.data, p.grad.data, state, group)

    def _step_flat(self, number: int, group: dict, states: list[dict]) -> None:
        """Update a whole group at once: gather, one ``_update`` on flat vectors, scatter."""
        params = group["params"]
        flat = self._flat_groups.get(number)
        if flat is None or not flat.is_current(params, states):
            flat = self._flat_groups[number] = FlatGroup(params, states, _MOMENTS)
        for state in states:
            state["step"] += 1
        flat.gather()
        moments = {"step": states[0]["step"], **flat.buffers}
        self._update(flat.param, flat.grad, moments, group)
        flat.scatter()

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        """The arithmetic of one step, ordered as PyTorch's so results agree to rounding."""
        lr, eps, decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        step = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        # HINT: weight decay first: AdamW (self.decoupled) shrinks param *= 1 - lr * decay,
        # HINT: Adam adds decay * param to grad. Then m = b1 m + (1 - b1) g,
        # HINT: v = b2 v + (1 - b2) g**2 (in place on m, v), and
        # HINT: param -= lr / (1 - b1**step) * m / (sqrt(v) / sqrt(1 - b2**step) + eps).
        # BEGIN SOLUTION
        work = self._scratch(param)
        if decay and self.decoupled:
            param *= 1 - lr * decay
        elif decay:
            grad = grad + decay * param
        m *= beta1
        np.multiply(grad, 1 - beta1, out=work)
        m += work
        v *= beta2
        np.multiply(grad, grad, out=work)
        work *= 1 - beta2
        v += work
        step_size = lr / (1 - beta1**step)
        np.sqrt(v, out=work)
        work /= math.sqrt(1 - beta2**step)
        work += eps
        np.divide(m, work, out=work)
        work *= step_size
        param -= work
        # END SOLUTION


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
