"""Stochastic gradient descent with optional momentum, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsArg


class SGD(Optimizer):
    """``p -= lr * d`` with ``d`` the (momentum-smoothed) gradient, as ``torch.optim.SGD``."""

    def __init__(
        self,
        params: ParamsArg,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
        }
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any]) -> None:
        super()._check_options(group)
        if group["momentum"] < 0:
            raise ValueError(f"SGD: momentum must be >= 0, got {group['momentum']}")
        if group["nesterov"] and group["momentum"] <= 0:
            raise ValueError("SGD: nesterov momentum needs momentum > 0")

    def step(self) -> None:
        """One update of every parameter that has a gradient, in place."""
        for index, p, group in self._indexed_params():
            state = self._state_for(index, p)
            state["step"] += 1
            # HINT: d = grad, plus weight_decay * p when weight_decay > 0. With momentum m:
            # HINT: buf = d on the first step (keep it in state["momentum_buffer"]), then
            # HINT: buf = m * buf + d; d becomes d + m * buf (nesterov) or buf. Then p -= lr * d,
            # HINT: in place on p.data (self._scratch(p.data) gives a reusable work array).
            # BEGIN SOLUTION
            direction = self._scratch(p.data)
            np.copyto(direction, p.grad.data)
            if group["weight_decay"]:
                direction += group["weight_decay"] * p.data
            momentum = group["momentum"]
            if momentum:
                buffer = state.get("momentum_buffer")
                if buffer is None:
                    buffer = state["momentum_buffer"] = direction.copy()
                else:
                    buffer *= momentum
                    buffer += direction
                if group["nesterov"]:
                    direction += momentum * buffer
                else:
                    np.copyto(direction, buffer)
            direction *= group["lr"]
            p.data -= direction
            # END SOLUTION
