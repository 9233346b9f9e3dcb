"""Loading a state dict into a module's tensors: every check first, then in-place copies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from gradstack.tensor import Tensor


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` left alone (PyTorch's return value)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _as_array(owner: str, name: str, value: Any) -> np.ndarray:
    """The array held by a state-dict entry (an ndarray or a Tensor)."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        return value
    raise TypeError(
        f"load_state_dict for {owner}: entry {name!r} must be an ndarray or a Tensor, "
        f"got {type(value).__name__}"
    )


def _key_error(owner: str, missing: list[str], unexpected: list[str]) -> ValueError:
    """One error listing every missing and every unexpected key."""
    parts = []
    if missing:
        parts.append(f"missing keys: {missing}")
    if unexpected:
        parts.append(f"unexpected keys: {unexpected}")
    return ValueError(f"load_state_dict for {owner}: " + "; ".join(parts))


def load_arrays(
    owner: str, targets: dict[str, Tensor], state: Mapping[str, Any], strict: bool
) -> IncompatibleKeys:
    """Copy ``state[name]`` into ``targets[name].data`` in place, after checking everything.

    Nothing is modified unless every key, shape and dtype is right, so a failed load
    leaves the module as it was. Copying into the existing arrays (``np.copyto``) keeps
    every reference to them valid: an optimizer holding the parameters keeps working.
    """
    if not isinstance(state, Mapping):
        raise TypeError(
            f"load_state_dict for {owner}: expects a mapping of names to arrays, "
            f"got {type(state).__name__}"
        )
    missing = [name for name in targets if name not in state]
    unexpected = [name for name in state if name not in targets]
    if strict and (missing or unexpected):
        raise _key_error(owner, missing, unexpected)
    copies: list[tuple[np.ndarray, np.ndarray]] = []
    wrong_shape: list[str] = []
    wrong_dtype: list[str] = []
    for name, tensor in targets.items():
        if name not in state:
            continue
        array = _as_array(owner, name, state[name])
        if array.shape != tensor.shape:
            wrong_shape.append(f"{name!r}: expected shape {tensor.shape}, got {array.shape}")
        elif array.dtype != tensor.dtype:
            wrong_dtype.append(f"{name!r}: expected dtype {tensor.dtype}, got {array.dtype}")
        else:
            copies.append((tensor.data, array))
    if wrong_shape:
        raise ValueError(
            f"load_state_dict for {owner}: shape mismatch for " + "; ".join(wrong_shape)
        )
    if wrong_dtype:
        raise TypeError(
            f"load_state_dict for {owner}: dtype mismatch for "
            + "; ".join(wrong_dtype)
            + " (convert the module with .to(dtype), or cast the arrays, before loading)"
        )
    for destination, source in copies:
        np.copyto(destination, source)
    return IncompatibleKeys(missing, unexpected)
