"""The op registry: every op is defined once, as a name and a forward on ndarrays.

Gradient rules live elsewhere (the gradstack-autograd package keeps a table keyed by
op name, like PyTorch's derivatives.yaml), so this module knows nothing of gradients.

A forward takes the input arrays positionally and static attributes by keyword, and
returns ``(output, saved)``: ``saved`` is whatever the gradient rule will need that
it cannot recompute cheaply from the inputs (or ``None``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Forward = Callable[..., tuple[np.ndarray, Any]]


def backward_name(op_name: str) -> str:
    """CamelCase an op name and append Backward: ``masked_fill`` -> ``MaskedFillBackward``."""
    return "".join(part.capitalize() for part in op_name.split("_")) + "Backward"


class Op:
    """A named forward computation on ndarrays; the unit the autograd rules are keyed by.

    ``forward`` is the reference; ``kernel`` is a tuned forward-and-gradient pair for the
    same op, or None (see kernel_registry.py).
    """

    __slots__ = ("name", "forward", "differentiable", "module", "backward_name", "kernel")

    def __init__(self, name: str, forward: Forward, differentiable: bool = True) -> None:
        self.name = name
        self.forward = forward
        self.differentiable = differentiable
        self.module = forward.__module__
        self.backward_name = backward_name(name)
        self.kernel: Any = None  # a Kernel, installed by register_kernel (kernel_registry.py)

    def __repr__(self) -> str:
        kind = "" if self.differentiable else ", non-differentiable"
        return f"Op({self.name!r}{kind}, defined in {self.module})"


OPS: dict[str, Op] = {}


def register_op(name: str, *, differentiable: bool = True) -> Callable[[Forward], Op]:
    """Decorator: register ``forward`` under ``name`` and return the Op object."""

    def register(forward: Forward) -> Op:
        if name in OPS and OPS[name].module != forward.__module__:
            raise ValueError(
                f"register_op: op {name!r} is already defined in {OPS[name].module}; "
                f"choose another name for the op in {forward.__module__}"
            )
        op = Op(name, forward, differentiable)
        OPS[name] = op
        return op

    return register


def get_op(name: str) -> Op:
    """Look an op up by name, with an error that lists what exists."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; registered ops: {sorted(OPS)}") from None
