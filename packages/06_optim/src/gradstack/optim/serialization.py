"""Optimizer state as flat arrays, for ``np.savez`` without pickle."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

_GROUPS_KEY = "param_groups_json"


def state_to_arrays(state_dict: dict[str, Any]) -> dict[str, np.ndarray]:
    """Flatten a ``state_dict()`` into ``{"state/<i>/<name>": array, ...}`` plus JSON groups."""
    arrays: dict[str, np.ndarray] = {}
    for index, entry in state_dict["state"].items():
        for name, value in entry.items():
            arrays[f"state/{index}/{name}"] = np.asarray(value)
    groups = [
        {k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
        for g in state_dict["param_groups"]
    ]
    arrays[_GROUPS_KEY] = np.asarray(json.dumps(groups))
    return arrays


def arrays_to_state(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Rebuild a ``state_dict()`` from ``state_to_arrays`` output (e.g. an ``np.load`` file)."""
    if _GROUPS_KEY not in arrays:
        raise ValueError(
            "optimizer state: the parameter groups are missing (not an optimizer file)"
        )
    groups = json.loads(str(arrays[_GROUPS_KEY]))
    for group in groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    state: dict[int, dict[str, Any]] = {}
    for key in arrays:
        if key == _GROUPS_KEY:
            continue
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit():
            raise ValueError(f"optimizer state: unexpected entry {key!r}")
        value = np.asarray(arrays[key])
        state.setdefault(int(parts[1]), {})[parts[2]] = value.item() if value.ndim == 0 else value
    return {"state": state, "param_groups": groups}
