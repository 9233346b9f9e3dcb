"""Provenance of an op result: the ``grad_fn`` node a backward pass walks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .kernel_registry import Kernel
    from .registry import Op
    from .tensor import Tensor


class Node:
    """What produced a tensor: the op, its inputs, static attributes and saved arrays.

    ``needs_input_grad[i]`` says whether input ``i`` requires grad, so a rule can skip
    work nobody will use. After a backward pass without ``retain_graph`` the node is
    released: ``saved`` and ``inputs`` are dropped to free memory and ``released`` is
    set, so a second backward through it can fail with a clear message. ``kernel`` is
    the Kernel whose forward produced the result (its backward is then the gradient to
    use), or None when the op's reference did.
    """

    __slots__ = ("op", "inputs", "attrs", "saved", "needs_input_grad", "released", "kernel")

    def __init__(
        self,
        op: Op,
        inputs: tuple[Tensor, ...],
        attrs: dict[str, Any],
        saved: Any,
        needs_input_grad: tuple[bool, ...],
        kernel: Kernel | None = None,
    ) -> None:
        self.op = op
        self.inputs = inputs
        self.attrs = attrs
        self.saved = saved
        self.needs_input_grad = needs_input_grad
        self.released = False
        self.kernel = kernel

    def name(self) -> str:
        """PyTorch-style name: the op's CamelCase name plus ``Backward``."""
        return self.op.backward_name

    @property
    def next_functions(self) -> tuple[tuple[Node | AccumulateGrad | None, int], ...]:
        """The nodes gradients flow to next, one per input (``AccumulateGrad`` for leaves)."""
        result: list[tuple[Node | AccumulateGrad | None, int]] = []
        for tensor in self.inputs:
            if tensor.grad_fn is not None:
                result.append((tensor.grad_fn, 0))
            elif tensor.requires_grad:
                result.append((AccumulateGrad(tensor), 0))
            else:
                result.append((None, 0))
        return tuple(result)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class AccumulateGrad:
    """Stands for a leaf in ``next_functions``: its gradient is accumulated into ``.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        """Always ``AccumulateGrad``, as in PyTorch."""
        return "AccumulateGrad"

    @property
    def next_functions(self) -> tuple[()]:
        """A leaf has nothing after it."""
        return ()

    def __repr__(self) -> str:
        return "<AccumulateGrad>"
