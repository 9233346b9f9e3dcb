"""Kernels: tuned implementations registered beside an op's reference, and the switch.

Every op has a **reference**: the forward registered with ``register_op`` and its
gradient rule (module 05, or beside the op for packages after autograd), written as the
textbook algorithm. A **kernel** is a faster forward for the same op together with its
own gradient, registered as a pair with ``register_kernel``; the pair must agree with
the reference (each package's ``tests/test_kernels*.py`` checks it). ``apply`` runs the
kernel when one is registered and kernels are enabled, and the reference otherwise; the
``Node`` it records remembers the kernel, so backward uses the matching gradient.

Kernels are switched off for the whole process by the environment variable
``GRADSTACK_KERNELS=0`` (read once, when gradstack.tensor is imported), or for a block
by ``with use_references():``. Code that is not an op (an optimizer's flat step, the
array-level decoding loop) branches on ``kernels_enabled()`` itself.

A package installs its kernels by calling ``load_kernels(__name__)`` at the end of its
``__init__``: that imports ``<package>.kernels`` when the module exists. A released
student copy has no kernel module, so it runs the student's references only.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from .registry import Forward, get_op
from .runtime import env_switch

if TYPE_CHECKING:
    from .node import Node

Backward = Callable[[Any, "Node"], tuple[Any, ...]]

ENV_VAR = "GRADSTACK_KERNELS"


def _enabled_by_environment() -> bool:
    """Read ``GRADSTACK_KERNELS``: 0/false/off/no switch kernels off, 1/true/on/yes or unset on."""
    return env_switch(ENV_VAR, "references only", "kernels on")


class _KernelMode:
    """The one switch ``apply`` reads; a class attribute is the cheapest global to read."""

    enabled: bool = _enabled_by_environment()


class Kernel:
    """A tuned forward and its gradient rule, registered together for one op."""

    __slots__ = ("op_name", "forward", "backward", "module")

    def __init__(self, op_name: str, forward: Forward, backward: Backward) -> None:
        self.op_name = op_name
        self.forward = forward
        self.backward = backward
        self.module = forward.__module__

    def __repr__(self) -> str:
        return f"Kernel({self.op_name!r}, defined in {self.module})"


KERNELS: dict[str, Kernel] = {}


def register_kernel(op_name: str, forward: Forward, backward: Backward) -> Kernel:
    """Install ``forward`` (same signature as the reference) and its gradient for an op."""
    op = get_op(op_name)
    if not callable(forward) or not callable(backward):
        raise TypeError(f"register_kernel: forward and backward of {op_name!r} must be callables")
    if not op.differentiable:
        raise ValueError(f"register_kernel: op {op_name!r} is not differentiable; it has no rule")
    current = KERNELS.get(op_name)
    if current is not None and current.module != forward.__module__:
        raise ValueError(
            f"register_kernel: op {op_name!r} already has a kernel in {current.module}; "
            f"the one in {forward.__module__} would replace it"
        )
    kernel = Kernel(op_name, forward, backward)
    KERNELS[op_name] = kernel
    op.kernel = kernel
    return kernel


def unregister_kernel(op_name: str) -> Kernel | None:
    """Remove an op's kernel (tests use this); return it, or None when there was none."""
    kernel = KERNELS.pop(op_name, None)
    if kernel is not None:
        get_op(op_name).kernel = None
    return kernel


def kernels_enabled() -> bool:
    """True unless ``GRADSTACK_KERNELS=0`` or inside ``use_references()``."""
    return _KernelMode.enabled


class use_references:  # noqa: N801 (a context manager, named like no_grad)
    """Context manager: every op inside runs its reference (teaching, debugging, tests).

    Like grad mode, the switch is process-wide: it nests and restores what it found on
    exit, exceptions included.
    """

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> use_references:
        self._previous.append(_KernelMode.enabled)
        _KernelMode.enabled = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _KernelMode.enabled = self._previous.pop()


def load_kernels(package_name: str) -> ModuleType | None:
    """Import ``<package_name>.kernels`` if it exists (call at the end of ``__init__``)."""
    name = f"{package_name}.kernels"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)
