"""Argument checks of the losses: each error names the loss and the offending shapes or values."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstack.tensor import Tensor, as_tensor


def check_input(op: str, input: Any) -> Tensor:
    """The prediction must be a floating-point Tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(
            f"{op}: input must be floating-point, got dtype {input.dtype} (shape {input.shape})"
        )
    return input


def check_float_target(op: str, input: Tensor, target: Any) -> Tensor:
    """A target of exactly the input's shape and dtype; arrays are converted to the input's dtype.

    Nothing is broadcast: a ``(N,)`` target against an ``(N, 1)`` input would silently
    give an ``(N, N)`` loss, so shapes must be equal.
    """
    if not isinstance(target, Tensor):
        if not isinstance(target, (np.ndarray, list, tuple, int, float)):
            raise TypeError(
                f"{op}: target must be a Tensor or an array, got {type(target).__name__}"
            )
        target = as_tensor(np.asarray(target), input)
    if target.dtype.kind != "f":
        raise TypeError(
            f"{op}: target must be floating-point like the input, got dtype {target.dtype}; "
            "convert it with .float()"
        )
    if target.shape != input.shape:
        raise ValueError(
            f"{op}: input shape {input.shape} and target shape {target.shape} differ; "
            "they must be equal (nothing is broadcast)"
        )
    if target.dtype != input.dtype:
        raise TypeError(
            f"{op}: input dtype {input.dtype} and target dtype {target.dtype} differ; "
            "convert one of them"
        )
    return target


def check_class_target(logits: Tensor, target: Any) -> np.ndarray:
    """Integer class indices of shape ``logits.shape[:-1]``, as an ndarray (they take no grad)."""
    if isinstance(target, Tensor):
        indices = target.data
    elif isinstance(target, (np.ndarray, list, tuple, int, np.integer)):
        indices = np.asarray(target)
    else:
        raise TypeError(
            f"cross_entropy: target must be a Tensor of class indices, got {type(target).__name__}"
        )
    if indices.dtype.kind not in "iu":
        raise TypeError(
            f"cross_entropy: target must hold integer class indices, got dtype {indices.dtype}"
        )
    if logits.ndim == 0 or logits.shape[-1] == 0:
        raise ValueError(
            f"cross_entropy: logits must have shape (..., C) with C >= 1 classes in the last "
            f"dim, got shape {logits.shape}"
        )
    if indices.shape != logits.shape[:-1]:
        raise ValueError(
            f"cross_entropy: logits of shape {logits.shape} need a target of shape "
            f"{logits.shape[:-1]} (the classes are the last dim), got target shape "
            f"{indices.shape}"
        )
    return indices


def check_ignore_index(ignore_index: Any) -> int:
    """``ignore_index`` is an int (default -100, as in PyTorch)."""
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"cross_entropy: ignore_index must be an int, got {ignore_index!r}")
    return int(ignore_index)


def check_label_smoothing(label_smoothing: Any) -> float:
    """``label_smoothing`` is a number in [0, 1]."""
    if isinstance(label_smoothing, bool) or not isinstance(
        label_smoothing, (int, float, np.floating, np.integer)
    ):
        raise TypeError(f"cross_entropy: label_smoothing must be a number, got {label_smoothing!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    return float(label_smoothing)
