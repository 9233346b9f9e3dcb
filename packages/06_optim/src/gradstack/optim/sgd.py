"""Stochastic gradient descent with optional momentum, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any

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
        """One update of every parameter that has a gradient, in place::

        d = g + weight_decay p
        buf = d (first step), else buf = momentum buf + d      (with momentum)
        d = d + momentum buf (nesterov), else d = buf           (with momentum)
        p = p - lr d
        """
        for index, p, group in self._indexed_params():
            state = self._state_for(index, p)
            state["step"] += 1
            # HINT: never write into p.grad.data (the caller owns it): weight decay makes a new
            # HINT: array. The momentum buffer starts as a copy of the first step's d, not as 0
            # HINT: (PyTorch's convention). Test: tox -e 06_optim -- -k sgd
            # BEGIN SOLUTION
            direction = p.grad.data
            if group["weight_decay"]:
                direction = direction + group["weight_decay"] * p.data
            momentum = group["momentum"]
            if momentum:
                buffer = state.get("momentum_buffer")
                if buffer is None:
                    buffer = state["momentum_buffer"] = direction.copy()
                else:
                    buffer *= momentum
                    buffer += direction  # buf = momentum buf + d
                direction = direction + momentum * buffer if group["nesterov"] else buffer
            p.data -= group["lr"] * direction
            # END SOLUTION
