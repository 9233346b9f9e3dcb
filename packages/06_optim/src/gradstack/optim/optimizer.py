"""The optimizer base: parameter groups, per-parameter state, zero_grad, state_dict.

Updates happen in place on each parameter's array (``param.data``), so models,
checkpoints and anything else holding the parameters see the new values, and a step
allocates no new parameter arrays.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import numpy as np

from gradstack.tensor import Tensor

ParamsArg = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Holds parameter groups and per-parameter state; subclasses implement ``step``."""

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        seen: set[int] = set()
        for group in groups:
            self._add_group(group, seen)

    def _add_group(self, group: dict[str, Any], seen: set[int]) -> None:
        """Check one group's parameters and fill in the defaults it does not set."""
        name = type(self).__name__
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameters must be Tensors, got {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"{name}: a parameter of shape {p.shape} does not require grad")
            if id(p) in seen:
                raise ValueError(f"{name}: a parameter of shape {p.shape} appears in two groups")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"{name}: unknown options {sorted(unknown)} in a parameter group")
        filled = {**self.defaults, **group, "params": params}
        self._check_options(filled)
        self.param_groups.append(filled)

    def _check_options(self, group: dict[str, Any]) -> None:
        """Validate hyper-parameters; subclasses extend."""
        if group["lr"] < 0:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0, got {group['lr']}")
        if group.get("weight_decay", 0) < 0:
            raise ValueError(
                f"{type(self).__name__}: weight_decay must be >= 0, got {group['weight_decay']}"
            )

    def parameters(self) -> list[Tensor]:
        """Every parameter, in group order."""
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget gradients: drop them (default) or zero them in place."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.data.fill(0)

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        raise NotImplementedError

    def _state_for(self, index: int, param: Tensor) -> dict[str, Any]:
        """The state of parameter ``index``, created on first use."""
        state = self.state.get(index)
        if state is None:
            state = self.state[index] = {"step": 0}
        return state

    def _indexed_params(self):
        """Yield (index, param, group) for every parameter that has a gradient."""
        index = 0
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    yield index, p, group
                index += 1

    def state_dict(self) -> dict[str, Any]:
        """Copies of the state and hyper-parameters; parameters are referred to by index."""
        groups = []
        index = 0
        for group in self.param_groups:
            options = {k: v for k, v in group.items() if k != "params"}
            options["params"] = list(range(index, index + len(group["params"])))
            index += len(group["params"])
            groups.append(options)
        state = {
            i: {
                k: (v.copy() if isinstance(v, np.ndarray) else v)
                for k, v in s.items()
                if not k.startswith("_")
            }
            for i, s in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state saved by ``state_dict`` (same parameters, same order)."""
        name = type(self).__name__
        groups = state_dict.get("param_groups")
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: expected {len(self.param_groups)} parameter groups, "
                f"got {len(groups) if isinstance(groups, list) else groups!r}"
            )
        for i, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: group {i} has {len(group['params'])} parameters, "
                    f"the saved one {len(saved['params'])}"
                )
        params = self.parameters()
        new_state: dict[int, dict[str, Any]] = {}
        for key, saved_state in state_dict.get("state", {}).items():
            index = int(key)
            if not 0 <= index < len(params):
                raise ValueError(f"{name}.load_state_dict: state for unknown parameter {index}")
            entry = {}
            for k, v in saved_state.items():
                if isinstance(v, np.ndarray) and v.shape != params[index].shape and v.ndim:
                    raise ValueError(
                        f"{name}.load_state_dict: state {k!r} of parameter {index} has shape "
                        f"{v.shape}, the parameter {params[index].shape}"
                    )
                entry[k] = (
                    np.array(v, dtype=params[index].dtype)
                    if isinstance(v, np.ndarray) and v.ndim
                    else (int(v) if k == "step" else copy.copy(v))
                )
            new_state[index] = entry
        for saved, group in zip(groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = new_state
