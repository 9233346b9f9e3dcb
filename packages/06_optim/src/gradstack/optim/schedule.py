"""Learning-rate schedules: cosine decay after a linear warm-up."""

from __future__ import annotations

import math
from typing import Any

from .optimizer import Optimizer


def cosine_lr(
    step: int, base_lr: float, total_steps: int, warmup_steps: int = 0, min_lr: float = 0.0
) -> float:
    """The learning rate at ``step`` (0-based): linear warm-up, then cosine down to ``min_lr``.

    During warm-up (``step < warmup_steps``) the rate is ``base_lr (step + 1) /
    warmup_steps``; from there, with ``progress = (step - warmup_steps) / (total_steps -
    warmup_steps)``, it is ``min_lr + (base_lr - min_lr) (1 + cos(pi progress)) / 2``, down
    to ``min_lr`` at ``total_steps``, where it stays.
    With ``warmup_steps=0`` this is PyTorch's ``CosineAnnealingLR`` closed form.
    """
    # HINT: warmup_steps == total_steps would divide by zero in progress: guard it. Step 0 of
    # HINT: warm-up already has a non-zero rate (step + 1), as nanoGPT's schedule.
    # BEGIN SOLUTION
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
    # END SOLUTION


class CosineAnnealingLR:
    """Set each group's lr from ``cosine_lr`` every ``step()`` (PyTorch's names and use)."""

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: int,  # noqa: N803 (PyTorch's name)
        eta_min: float = 0.0,
        warmup_steps: int = 0,
    ) -> None:
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be > 0, got {T_max}")
        if not 0 <= warmup_steps <= T_max:
            raise ValueError(
                f"CosineAnnealingLR: warmup_steps must be in [0, T_max={T_max}], got {warmup_steps}"
            )
        self.optimizer = optimizer
        self.T_max = T_max
        self.eta_min = eta_min
        self.warmup_steps = warmup_steps
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_step = 0
        self._apply()

    def _apply(self) -> None:
        """Write the rates for ``last_step`` into the optimizer."""
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = cosine_lr(
                self.last_step, base, self.T_max, self.warmup_steps, self.eta_min
            )

    def step(self) -> None:
        """Advance one step (call after ``optimizer.step()``)."""
        self.last_step += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The rates now in force, one per group."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """What a resume needs."""
        return {"last_step": self.last_step, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a saved schedule."""
        self.last_step = int(state["last_step"])
        self.base_lrs = [float(x) for x in state["base_lrs"]]
        self._apply()
