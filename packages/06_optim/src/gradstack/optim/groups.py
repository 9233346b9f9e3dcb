"""Parameter groups the nanoGPT way: decay matrices, not biases or norm gains."""

from __future__ import annotations

from typing import Any, Protocol

from gradstack.tensor import Tensor


class HasNamedParameters(Protocol):
    """Anything with ``named_parameters()`` (a gradstack Module)."""

    def named_parameters(self) -> Any: ...


def weight_decay_groups(model: HasNamedParameters, weight_decay: float) -> list[dict[str, Any]]:
    """Two groups: parameters with 2+ dims decay, 1-D ones (biases, LayerNorm) do not."""
    decay: list[Tensor] = []
    no_decay: list[Tensor] = []
    for _, p in model.named_parameters():
        (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups
