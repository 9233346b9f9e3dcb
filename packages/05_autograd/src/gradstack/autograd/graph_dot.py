"""Pictures of the graph behind a tensor: Graphviz DOT text, rendered when Graphviz is there.

``to_dot(loss, model)`` walks the recorded graph from ``loss`` back to its leaves and writes
one node per op (``LinearBackward``, its output shape and dtype) and one per leaf (the
parameter's dotted name when ``model`` holds it, its shape, ``requires_grad``), with edges
in data-flow order: from each input to the op that reads it. ``depth`` collapses modules
nested deeper than that many levels into one box each (``depth=0`` draws one box per
``TransformerBlock`` of a GPT); containers (``ModuleList``, ``Sequential``) are not a level.

Which module an op belongs to is not recorded during the forward pass, so it is inferred:
an op that reads parameters belongs to the module holding them; an op that reads none
belongs to the innermost module shared by the ops that made its inputs, and when they
share only the root or a container (a residual ``x + sublayer(x)``), to the module, one
level below that, of the most recently computed input: the block whose sublayer it closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gradstack.layers import Module, ModuleList, Sequential
from gradstack.tensor import Node, Tensor

from .engine import topological_order

_CONTAINERS = (ModuleList, Sequential)


@dataclass
class _Box:
    """A collapsed module: one picture node standing for its ops and parameters."""

    key: str
    path: str
    kind: str
    ops: int = 0
    parameters: list[str] = field(default_factory=list)


def _describe(shape: tuple[int, ...], dtype: object) -> str:
    """``(2, 8, 16) float32``."""
    return f"{tuple(shape)} {dtype}"


def _quote(text: str) -> str:
    """A DOT string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _common_prefix(paths: list[str]) -> str:
    """The innermost module path that contains every path (``""``: the root)."""
    parts = [p.split(".") if p else [] for p in paths]
    shared: list[str] = []
    for level in zip(*parts):
        if any(name != level[0] for name in level):
            break
        shared.append(level[0])
    return ".".join(shared)


class _ModuleMap:
    """Parameter names, parameter owners and module kinds of the module passed in."""

    def __init__(self, module: Module | None) -> None:
        self.names: dict[int, str] = {}
        self.kinds: dict[str, str] = {}
        self.containers: set[str] = set()
        if module is None:
            return
        if not isinstance(module, Module):
            raise TypeError(f"to_dot: module must be a Module, got {type(module).__name__}")
        for name, param in module.named_parameters():
            self.names[id(param)] = name
        for path, sub in module.named_modules():
            self.kinds[path] = type(sub).__name__
            if isinstance(sub, _CONTAINERS):
                self.containers.add(path)

    def owner_of_parameter(self, tensor: Tensor) -> str | None:
        """The path of the module holding a parameter, or None when it is not the model's."""
        name = self.names.get(id(tensor))
        return None if name is None else name.rpartition(".")[0]

    def box_for(self, owner: str, depth: int | None) -> str | None:
        """The collapsed module an op of ``owner`` is drawn in, or None when it is drawn."""
        if depth is None or not owner:
            return None
        parts = owner.split(".")
        level = 0
        for end in range(1, len(parts) + 1):
            prefix = ".".join(parts[:end])
            if prefix in self.containers:
                continue
            level += 1
            if level > depth:
                return prefix
        return None


def _child_towards(outer: str, inner: str, containers: set[str]) -> str:
    """The first module below ``outer`` on the way to ``inner`` that is not a container."""
    outer_parts = outer.split(".") if outer else []
    inner_parts = inner.split(".") if inner else []
    for end in range(len(outer_parts) + 1, len(inner_parts) + 1):
        prefix = ".".join(inner_parts[:end])
        if prefix not in containers:
            return prefix
    return inner


def _owners(order: list[Node], modules: _ModuleMap) -> dict[int, str]:
    """The module path each op is attributed to (see the module docstring)."""
    owner: dict[int, str] = {}
    position = {id(node): i for i, node in enumerate(order)}
    for node in order:
        from_params = [
            path
            for t in node.inputs
            if t.grad_fn is None and (path := modules.owner_of_parameter(t)) is not None
        ]
        if from_params:
            owner[id(node)] = _common_prefix(from_params)
            continue
        producers = [t.grad_fn for t in node.inputs if t.grad_fn is not None]
        if not producers:
            owner[id(node)] = ""
            continue
        shared = _common_prefix([owner[id(p)] for p in producers])
        if len(producers) > 1 and (not shared or shared in modules.containers):
            latest = max(producers, key=lambda p: position[id(p)])
            shared = _child_towards(shared, owner[id(latest)], modules.containers)
        owner[id(node)] = shared
    return owner


def _graph_of(tensor: Tensor) -> tuple[list[Node], dict[int, Tensor], list[Tensor]]:
    """Ops in data-flow order, the tensor each op made, and the leaves in order of first use."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expects a Tensor, got {type(tensor).__name__}")
    if tensor.grad_fn is None:
        return [], {}, [tensor]
    if tensor.grad_fn.released:
        raise RuntimeError(
            "to_dot: the graph behind this tensor was freed by backward(); call to_dot "
            "before backward(), or pass retain_graph=True to backward()"
        )
    order = topological_order([tensor.grad_fn])[::-1]
    outputs: dict[int, Tensor] = {id(tensor.grad_fn): tensor}
    leaves: dict[int, Tensor] = {}
    for node in order:
        for t in node.inputs:
            if t.grad_fn is None:
                leaves.setdefault(id(t), t)
            else:
                outputs.setdefault(id(t.grad_fn), t)
    return order, outputs, list(leaves.values())


class _DotWriter:
    """Assigns picture ids (leaves, ops, collapsed boxes) and writes the DOT lines."""

    def __init__(self, modules: _ModuleMap, owners: dict[int, str], depth: int | None) -> None:
        self.modules = modules
        self.owners = owners
        self.depth = depth
        self.ids: dict[int, str] = {}
        self.boxes: dict[str, _Box] = {}
        self.lines = [
            "digraph gradstack {",
            "  rankdir=TB;",
            '  node [fontname="Helvetica", fontsize=10];',
        ]

    def _box(self, path: str) -> _Box:
        if path not in self.boxes:
            kind = self.modules.kinds.get(path, "Module")
            self.boxes[path] = _Box(f"box{len(self.boxes)}", path, kind)
        return self.boxes[path]

    def leaf(self, i: int, leaf: Tensor) -> None:
        """A leaf node, or its parameter counted in the box of its collapsed module."""
        name = self.modules.names.get(id(leaf))
        box = self.modules.box_for(name.rpartition(".")[0], self.depth) if name else None
        if box is not None:
            self.ids[id(leaf)] = self._box(box).key
            self.boxes[box].parameters.append(name)
            return
        self.ids[id(leaf)] = f"leaf{i}"
        label = (
            f"{name or 'tensor'}\n{_describe(leaf.shape, leaf.dtype)}"
            f"\nrequires_grad={leaf.requires_grad}"
        )
        color = "lightblue" if leaf.requires_grad else "lightgrey"
        self.lines.append(
            f"  leaf{i} [label={_quote(label)}, shape=box, style=filled, fillcolor={color}];"
        )

    def op(self, i: int, node: Node, out: Tensor) -> None:
        """An op node (name, output shape and dtype, module), or one more op of a box."""
        owner = self.owners[id(node)]
        box = self.modules.box_for(owner, self.depth)
        if box is not None:
            self.ids[id(node)] = self._box(box).key
            self.boxes[box].ops += 1
            return
        self.ids[id(node)] = f"op{i}"
        label = f"{node.name()}\n{_describe(out.shape, out.dtype)}"
        if owner:
            label += f"\n{owner}"
        self.lines.append(f"  op{i} [label={_quote(label)}, shape=ellipse];")

    def finish(self, order: list[Node]) -> str:
        """The boxes, then one edge per (input, consumer) pair in data-flow order."""
        for box in self.boxes.values():
            label = (
                f"{box.path} ({box.kind})\n{box.ops} ops, {len(box.parameters)} parameter tensors"
            )
            self.lines.append(
                f"  {box.key} [label={_quote(label)}, shape=box3d, "
                "style=filled, fillcolor=lightyellow];"
            )
        seen: set[tuple[str, str]] = set()
        for node in order:
            head = self.ids[id(node)]
            for t in node.inputs:
                source = self.ids[id(t.grad_fn) if t.grad_fn is not None else id(t)]
                if source != head and (source, head) not in seen:
                    seen.add((source, head))
                    self.lines.append(f"  {source} -> {head};")
        return "\n".join(self.lines) + "\n}\n"


def to_dot(tensor: Tensor, module: Module | None = None, depth: int | None = None) -> str:
    """Graphviz DOT text of the graph that computed ``tensor``, leaves named from ``module``."""
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise ValueError(f"to_dot: depth must be None or an int >= 0, got {depth!r}")
    modules = _ModuleMap(module)
    order, outputs, leaves = _graph_of(tensor)
    writer = _DotWriter(modules, _owners(order, modules), depth)
    for i, leaf in enumerate(leaves):
        writer.leaf(i, leaf)
    for i, node in enumerate(order):
        writer.op(i, node, outputs[id(node)])
    return writer.finish(order)


def render_dot(dot: str, path: str | Path) -> Path:
    """Write ``dot`` as a picture (format from the suffix) with Graphviz, else as DOT text.

    Rendering needs the ``graphviz`` Python package (``pip install "gradstack-autograd[viz]"``)
    and the Graphviz ``dot`` program. Without either, the DOT text is written next to
    ``path`` with the suffix ``.dot`` (render it later with ``dot -Tsvg``); the path written
    is returned either way.
    """
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    if fmt != "dot":
        try:
            import graphviz  # optional extra: gradstack-autograd[viz]
        except ImportError:
            graphviz = None
        if graphviz is not None:
            try:
                data = graphviz.Source(dot).pipe(format=fmt)
            except graphviz.ExecutableNotFound:
                data = None
            if data is not None:
                target.write_bytes(data)
                return target
        target = target.with_suffix(".dot")
    target.write_text(dot, encoding="utf-8")
    return target
