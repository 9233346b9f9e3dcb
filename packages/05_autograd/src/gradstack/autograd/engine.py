"""The backward engine: walk the graph in reverse topological order, applying rules.

Design, in the order a reader meets it:
- ``topological_order`` is an iterative depth-first search, so a graph of any depth
  (a 20,000-op chain) works without touching Python's recursion limit.
- Each node produces exactly one tensor, so the gradient waiting for a tensor is kept
  per node in ``pending`` and handed to the node's rule once every consumer has added
  its part (reverse topological order guarantees that).
- Gradients that came out of a broadcast are summed back to the input's shape in one
  place, ``sum_to_shape``; rules do not do it themselves.
- Accumulation is in place where that is safe. An array handed out by a rule may be
  shared (``add`` passes the same gradient to both inputs), so each destination
  *claims* the memory it stores; a second destination of the same memory gets a copy.
- Unless ``retain_graph`` is set, each node is released once used: its saved arrays
  and inputs are dropped (memory goes back as the pass proceeds) and a second backward
  through it raises a RuntimeError that says to pass ``retain_graph=True``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from gradstack.tensor import Node, Tensor

from . import profiler
from .registry import get_rule


def topological_order(roots: Iterable[Node]) -> list[Node]:
    """Nodes reachable from ``roots``, each before every node it feeds gradients to.

    A depth-first search from each root appends a node once all its children (the
    ``grad_fn`` of its inputs) are appended, visiting each node once; the reversed list
    is a topological order. Iterative, with an explicit stack: a GPT's graph is deeper
    than Python's recursion limit.
    """
    # HINT: a node reachable along two paths (x used twice) must appear once, and only after every
    # HINT: node that feeds it; test a diamond (y = x * x + x) by hand. Recursion is not an option.
    # BEGIN SOLUTION
    order: list[Node] = []
    visited: set[int] = set()
    for root in roots:
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for tensor in node.inputs:
                child = tensor.grad_fn
                if child is not None and id(child) not in visited:
                    stack.append((child, False))
    order.reverse()
    return order
    # END SOLUTION


def sum_to_shape(grad: np.ndarray, shape: tuple[int, ...], node: Node | None = None) -> np.ndarray:
    """Undo broadcasting: sum ``grad`` over the dims that were added or stretched.

    ``grad`` may have ``lead`` extra leading dims (broadcasting prepends dims) and size
    > 1 where ``shape`` has 1 (a stretched dim); summing over both gives ``shape``.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        where = f" from {node.name()}" if node is not None else ""
        raise RuntimeError(
            f"backward: gradient of shape {grad.shape}{where} is smaller than its input {shape}"
        )
    # HINT: a dim of size 1 in shape that is also 1 in grad needs no sum; keepdims=True keeps the
    # HINT: remaining dims aligned, then drop the lead dims. Test: tox -e 05_autograd -- -k
    # HINT: sum_to_shape
    # BEGIN SOLUTION
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    reduced = grad.sum(axis=axes, keepdims=True) if axes else grad
    reduced = reduced.reshape(grad.shape[lead:] if not axes else reduced.shape[lead:])
    # END SOLUTION
    if reduced.shape != shape:
        where = f" from {node.name()}" if node is not None else ""
        raise RuntimeError(
            f"backward: gradient of shape {grad.shape}{where} does not match its input {shape}"
        )
    return reduced


def _owner(array: np.ndarray) -> int:
    """Identity of the memory behind an array (views share their base's)."""
    base = array.base
    return id(array if base is None else base)


class _Accumulator:
    """Adds gradient contributions into per-node and per-leaf buffers, in place when safe."""

    def __init__(self, targets: Sequence[Tensor] | None) -> None:
        self.pending: dict[int, np.ndarray] = {}
        self.claimed: set[int] = set()
        # autograd.grad: gradients of these tensors are returned, not stored in .grad;
        # a tensor asked for twice gets its gradient in both slots
        self.targets: dict[int, list[int]] | None = None
        if targets is not None:
            self.targets = {}
            for i, tensor in enumerate(targets):
                self.targets.setdefault(id(tensor), []).append(i)
        self.results: list[np.ndarray | None] = [None] * (len(targets) if targets else 0)

    def own(self, grad: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Return ``grad`` if nobody else holds its memory, else a private copy."""
        key = _owner(grad)
        if key in self.claimed or not grad.flags.writeable or grad.dtype != dtype:
            grad = np.array(grad, dtype=dtype)
            key = _owner(grad)
        self.claimed.add(key)
        return grad

    def add_to_node(self, node: Node, grad: np.ndarray, dtype: np.dtype) -> None:
        """Add a contribution to the gradient waiting for ``node``'s output.

        The first contribution is kept (``own``: made private when someone else holds
        its memory); later ones are added into it in place.
        """
        # HINT: never add in place into an array you do not own: a rule may return g itself or a
        # HINT: read-only broadcast view, shared with other inputs.
        # BEGIN SOLUTION
        current = self.pending.get(id(node))
        if current is None:
            self.pending[id(node)] = self.own(grad, dtype)
        else:
            current += grad
        # END SOLUTION

    def take(self, node: Node) -> np.ndarray | None:
        """Remove and return the full gradient of ``node``'s output."""
        grad = self.pending.pop(id(node), None)
        if grad is not None:
            self.claimed.discard(_owner(grad))
        return grad

    def add_to_leaf(self, leaf: Tensor, grad: np.ndarray) -> None:
        """Accumulate into ``leaf.grad`` (or into the result of ``autograd.grad``).

        A leaf without ``.grad`` gets a Tensor around its own copy of ``grad``
        (``Tensor._result(self.own(...), None)``); one with a ``.grad`` adds into it in place.
        """
        if self.targets is not None:
            self.capture(leaf, grad)
            return
        # HINT: a gradient that flows to two leaves, or twice to one, may be the same array: let
        # HINT: own() copy it, never store it as it is.
        # BEGIN SOLUTION
        if leaf.grad is None:
            leaf.grad = Tensor._result(self.own(grad, leaf.dtype), None)
        else:
            leaf.grad.data += grad
        # END SOLUTION

    def capture(self, tensor: Tensor, grad: np.ndarray) -> None:
        """Record the gradient of a tensor asked for by ``autograd.grad``."""
        for index in self.targets.get(id(tensor), ()) if self.targets else ():
            current = self.results[index]
            if current is None:
                self.results[index] = np.array(grad, dtype=tensor.dtype)
            else:
                current += grad


def run_backward(
    roots: Sequence[tuple[Tensor, np.ndarray]],
    retain_graph: bool,
    targets: Sequence[Tensor] | None = None,
) -> list[np.ndarray | None]:
    """Propagate ``(tensor, gradient)`` pairs to the leaves (or to ``targets``)."""
    acc = _Accumulator(targets)
    root_nodes = []
    for tensor, grad in roots:
        if tensor.grad_fn is None:
            acc.add_to_leaf(tensor, grad)
        else:
            acc.add_to_node(tensor.grad_fn, grad, tensor.dtype)
            root_nodes.append(tensor.grad_fn)
    target_nodes = (
        {} if targets is None else {id(t.grad_fn): t for t in targets if t.grad_fn is not None}
    )
    recording = profiler.active()  # gradstack.autograd.profile: None unless one is open
    for node in topological_order(root_nodes):
        grad = acc.take(node)
        if node.released:
            raise RuntimeError(
                f"backward: trying to backward through the graph a second time ({node.name()} "
                "was already used and its saved values freed); pass retain_graph=True to the "
                "first backward() if you need to backward twice"
            )
        if grad is not None:
            if id(node) in target_nodes:
                acc.capture(target_nodes[id(node)], grad)
            if recording is None:
                _propagate(node, grad, acc)
            else:
                recording.backward(node, _propagate, grad, acc)
        if not retain_graph:
            _release(node)
    return acc.results


def _release(node: Node) -> None:
    """Drop what a node holds (saved arrays, inputs) and mark it used."""
    node.saved = None
    node.inputs = ()
    node.released = True


def _propagate(node: Node, grad: np.ndarray, acc: _Accumulator) -> None:
    """Apply the node's rule and route each input's gradient onwards.

    Each input that needs a gradient and got one receives it summed back to its shape
    (``sum_to_shape``): a leaf accumulates it (``acc.add_to_leaf``), an op result adds it
    to the gradient waiting for its producer (``acc.add_to_node``).
    """
    input_grads = get_rule(node)(grad, node)
    if len(input_grads) != len(node.inputs):
        raise RuntimeError(
            f"backward: rule for {node.op.name!r} returned {len(input_grads)} gradients "
            f"for {len(node.inputs)} inputs"
        )
    # HINT: a rule returns None for an input that needs no gradient; inputs are routed by position,
    # HINT: in node.inputs order.
    # BEGIN SOLUTION
    for tensor, input_grad, needed in zip(node.inputs, input_grads, node.needs_input_grad):
        if not needed or input_grad is None:
            continue
        input_grad = sum_to_shape(input_grad, tensor.data.shape, node)
        if tensor.grad_fn is None:
            acc.add_to_leaf(tensor, input_grad)
        else:
            acc.add_to_node(tensor.grad_fn, input_grad, tensor.dtype)
    # END SOLUTION


def _seed_gradient(tensor: Tensor, gradient: Any, op: str) -> np.ndarray:
    """The starting gradient: ones for a scalar, else the one the caller must give."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expects Tensors, got {type(tensor).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError(
            f"{op}: this tensor does not require grad and has no grad_fn; set "
            "requires_grad=True on the leaves you want gradients for (and not under no_grad)"
        )
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"{op}: gradient can be implicitly created only for a one-element output, "
                f"got shape {tensor.shape}; pass gradient= (a tensor of that shape)"
            )
        return np.ones(tensor.shape, dtype=tensor.dtype)
    array = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
    if array.shape != tensor.shape:
        raise ValueError(
            f"{op}: gradient of shape {array.shape} does not match "
            f"the tensor's shape {tensor.shape}"
        )
    return np.array(array, dtype=tensor.dtype)


def _as_list(value: Any) -> list[Any]:
    """Accept one item or a sequence of them."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any = None,
    retain_graph: bool = False,
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of every leaf."""
    outputs = _as_list(tensors)
    seeds = [None] * len(outputs) if grad_tensors is None else _as_list(grad_tensors)
    if len(seeds) != len(outputs):
        raise ValueError(f"backward: {len(outputs)} tensors but {len(seeds)} grad_tensors")
    roots = [(t, _seed_gradient(t, g, "backward")) for t, g in zip(outputs, seeds)]
    run_backward(roots, retain_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned; ``.grad`` is untouched."""
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    for i, tensor in enumerate(ins):
        if not isinstance(tensor, Tensor) or not tensor.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    seeds = [None] * len(outs) if grad_outputs is None else _as_list(grad_outputs)
    if len(seeds) != len(outs):
        raise ValueError(f"grad: {len(outs)} outputs but {len(seeds)} grad_outputs")
    roots = [(t, _seed_gradient(t, g, "grad")) for t, g in zip(outs, seeds)]
    results = run_backward(roots, retain_graph, targets=ins)
    for i, result in enumerate(results):
        if result is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {ins[i].shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
    return tuple(None if r is None else Tensor(r, dtype=r.dtype) for r in results)
