"""Module: the base class of every layer, finding its parameters by walking its attributes.

There is no ``__setattr__`` or ``__getattr__`` magic: a module's parts are its plain
attributes. ``named_parameters`` and friends walk ``vars(module)`` in insertion order,
looking inside lists, tuples and dicts, and descending into child modules depth
first, so names read like the code that built them: ``blocks.0.attn.q_proj.weight``.
A tensor reachable twice (tied weights) is listed once, under the first name found.
Buffers are plain Tensors registered by name with ``register_buffer``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from gradstack.tensor import Tensor

from .parameter import Parameter
from .state_dict import IncompatibleKeys, load_arrays

_PARAMETER = "parameter"
_BUFFER = "buffer"
_TRANSIENT_BUFFER = "non-persistent buffer"


def _expand(name: str, value: Any) -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted name, item)`` for a value, opening lists, tuples and dicts.

    Recursively: a list or tuple yields its items as ``name.0``, ``name.1``, ..., a dict
    its values as ``name.<key>``; anything else is yielded as ``(name, value)``.
    """
    # HINT: containers nest (a list of dicts of Linear): recurse on each item, not just one level.
    # BEGIN SOLUTION
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _expand(f"{name}.{index}", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _expand(f"{name}.{key}", item)
    else:
        yield name, value
    # END SOLUTION


def _join(prefix: str, name: str) -> str:
    """``prefix.name``, or just ``name`` at the top."""
    return f"{prefix}.{name}" if prefix else name


def _indent(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first (for nested reprs)."""
    return text.replace("\n", "\n" + " " * spaces)


class Module:
    """Base class of layers and models: subclass it, set parts in ``__init__``, define ``forward``.

    ``training`` is a plain attribute, switched for the whole tree by ``train()`` and
    ``eval()``; the class-level default keeps it readable even if a subclass forgets
    ``super().__init__()``.
    """

    training: bool = True
    _walk_skip: frozenset[str] = frozenset({"training", "_buffers"})

    def __init__(self) -> None:
        self.training = True
        self._buffers: dict[str, bool] = {}  # buffer name -> persistent (in state_dict)

    # -- calling -------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Module define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -- walking the tree ----------------------------------------------------------

    def _named_members(self) -> Iterator[tuple[str, Any]]:
        """Every value this module holds directly (containers opened), with its name."""
        for name, value in vars(self).items():
            if name not in self._walk_skip:
                yield from _expand(name, value)

    def _buffer_table(self) -> dict[str, bool]:
        """Registered buffer names and whether each is persistent."""
        return vars(self).get("_buffers", {})

    def _named_tensors(
        self, prefix: str, memo: set[int], recurse: bool
    ) -> Iterator[tuple[str, Tensor, str]]:
        """Parameters and buffers depth first, each with its dotted name and kind.

        Walks ``self._named_members()`` in order, naming each value ``_join(prefix,
        name)``: a Parameter yields ``(name, value, _PARAMETER)``; a Tensor registered in
        ``self._buffer_table()`` yields ``_BUFFER`` when persistent (True), else
        ``_TRANSIENT_BUFFER``; with ``recurse``, each child Module not yet in ``memo`` has
        its id added to ``memo`` and is walked in turn (depth first).
        """
        # HINT: a module reachable twice (a shared submodule, or a cycle) must be walked once: memo
        # HINT: holds the ids already entered. Test: tox -e 03_layers -- -k named
        # BEGIN SOLUTION
        buffers = self._buffer_table()
        for name, value in self._named_members():
            full = _join(prefix, name)
            if isinstance(value, Parameter):
                yield full, value, _PARAMETER
            elif isinstance(value, Tensor) and name in buffers:
                yield full, value, _BUFFER if buffers[name] else _TRANSIENT_BUFFER
            elif recurse and isinstance(value, Module) and id(value) not in memo:
                memo.add(id(value))
                yield from value._named_tensors(full, memo, recurse)
        # END SOLUTION

    def _unique_tensors(
        self, kinds: tuple[str, ...], prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Tensors of the given kinds, each listed once under the first name found.

        Walks ``self._named_tensors(prefix, {id(self)}, recurse)``; a tensor seen before
        (by id) is skipped, so a tied weight keeps its first name.
        """
        # HINT: a tied weight appears under two names; an optimizer must see it once, so compare by
        # HINT: id(), never by ==.
        # BEGIN SOLUTION
        seen: set[int] = set()
        for name, tensor, kind in self._named_tensors(prefix, {id(self)}, recurse):
            if kind in kinds and id(tensor) not in seen:
                seen.add(id(tensor))
                yield name, tensor
        # END SOLUTION

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs in attribute order; tied ones listed once."""
        yield from self._unique_tensors((_PARAMETER,), prefix, recurse)  # type: ignore[misc]

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in ``named_parameters`` order (what optimizers take)."""
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` pairs, persistent or not."""
        yield from self._unique_tensors((_BUFFER, _TRANSIENT_BUFFER), prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every registered buffer once."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Modules held directly (in attributes, lists, tuples or dicts), each once."""
        seen: set[int] = set()
        for name, value in self._named_members():
            if isinstance(value, Module) and id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def children(self) -> Iterator[Module]:
        """The modules ``named_children`` lists."""
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and every module below it, depth first, each once."""
        yield from self._walk_modules(prefix, {id(self)})

    def _walk_modules(self, prefix: str, memo: set[int]) -> Iterator[tuple[str, Module]]:
        """Pre-order walk in the same order as ``named_parameters`` (first name wins)."""
        yield prefix, self
        for name, child in self.named_children():
            if id(child) not in memo:
                memo.add(id(child))
                yield from child._walk_modules(_join(prefix, name), memo)

    def modules(self) -> Iterator[Module]:
        """This module and every module below it."""
        for _, module in self.named_modules():
            yield module

    def num_parameters(self) -> int:
        """How many numbers the parameters hold (tied parameters counted once)."""
        return sum(p.numel() for p in self.parameters())

    # -- modes and gradients -------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on every module of the tree."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be True or False, got {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode everywhere (dropout off); same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients: drop them, or fill them with zeros in place."""
        for parameter in self.parameters():
            if set_to_none:
                parameter.grad = None
            elif parameter.grad is not None:
                parameter.grad.data.fill(0)

    # -- buffers, state and dtype --------------------------------------------------

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Make ``self.<name>`` a buffer: state that is saved and converted but not trained."""
        owner = type(self).__name__
        if "_buffers" not in vars(self):
            raise RuntimeError(
                f"register_buffer: call super().__init__() in {owner}.__init__ first"
            )
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"register_buffer: name must be an identifier, got {name!r}")
        if isinstance(tensor, Parameter) or not (tensor is None or isinstance(tensor, Tensor)):
            raise TypeError(
                f"register_buffer: {owner}.{name} must be a plain Tensor or None, got "
                f"{type(tensor).__name__} (parameters are attributes holding a Parameter)"
            )
        if name not in self._buffers and hasattr(self, name):
            raise ValueError(f"register_buffer: {owner} already has an attribute {name!r}")
        self._buffers[name] = bool(persistent)
        setattr(self, name, tensor)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and persistent buffer, by dotted name."""
        return {
            name: np.array(tensor.data, copy=True)
            for name, tensor in self._unique_tensors((_PARAMETER, _BUFFER))
        }

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the existing parameters and buffers, in place, after checking all.

        Missing or unexpected keys (``strict``), shape and dtype mismatches are errors
        that list every offending name; on error nothing is changed.
        """
        targets = dict(self._unique_tensors((_PARAMETER, _BUFFER)))
        return load_arrays(type(self).__name__, targets, state, strict)

    def to(self, dtype: Any) -> Module:
        """Convert floating parameters, buffers and their gradients to ``dtype``, in place.

        The Parameter objects stay the same (only their arrays change), so references
        held elsewhere stay valid. Integer and bool buffers (indices, masks) are kept.
        """
        target = np.dtype(dtype)
        if target.kind != "f":
            raise TypeError(f"to: dtype must be floating point, got {target}")
        for _, tensor in self._unique_tensors((_PARAMETER, _BUFFER, _TRANSIENT_BUFFER)):
            if tensor.dtype.kind == "f" and tensor.dtype != target:
                tensor.data = tensor.data.astype(target)
            if tensor.grad is not None and tensor.grad.dtype != target:
                tensor.grad = Tensor(tensor.grad.data, dtype=target)
        return self

    def double(self) -> Module:
        """Convert to float64 (gradient checks need it)."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Convert to float32, the training dtype."""
        return self.to(np.float32)

    # -- printing ------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The settings shown inside this module's parentheses (subclasses override)."""
        return ""

    def _repr_children(self) -> Iterator[tuple[str, Any]]:
        """The named parts ``repr`` lists: the child modules."""
        return self.named_children()

    def __repr__(self) -> str:
        return self._format(set())

    def _format(self, active: set[int]) -> str:
        """Nested PyTorch-style text; a module already being printed (a cycle) shows as ``...``."""
        name = type(self).__name__
        if id(self) in active:
            return f"{name}(...)"
        active.add(id(self))
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({key}): {_indent(_format_part(child, active), 2)}"
            for key, child in self._repr_children()
        ]
        active.discard(id(self))
        if not child_lines and len(extra_lines) <= 1:
            return f"{name}({extra})"
        body = "\n  ".join(extra_lines + child_lines)
        return f"{name}(\n  {body}\n)"


def _format_part(part: Any, active: set[int]) -> str:
    """The text of a child: nested for modules, ``repr`` for other callables."""
    return part._format(active) if isinstance(part, Module) else repr(part)
