"""to_dot: DOT text of the graph behind a tensor, with names, shapes and collapsed modules."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gradstack.autograd import render_dot, to_dot
from gradstack.layers import Linear, Module, ModuleList
from gradstack.tensor import Tensor, manual_seed

NODE = re.compile(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)"')
EDGE = re.compile(r"^  (\w+) -> (\w+);$")


def parse_dot(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A strict reader of the DOT subset to_dot writes: {id: label} and (tail, head) edges."""
    lines = text.splitlines()
    assert lines[0] == "digraph gradstack {" and lines[-1] == "}"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[1:-1]:
        if line.startswith("  rankdir") or line.startswith("  node ["):
            continue
        if match := EDGE.match(line):
            edges.append(match.groups())
        elif match := NODE.match(line):
            assert match.group(1) not in nodes, f"node {match.group(1)} defined twice"
            assert line.endswith("];"), line
            nodes[match.group(1)] = match.group(2).replace("\\n", "\n")
        else:
            raise AssertionError(f"not DOT that to_dot writes: {line!r}")
    for tail, head in edges:
        assert tail in nodes and head in nodes, f"edge {tail} -> {head} to an unknown node"
    return nodes, edges


def test_small_graph_has_one_node_per_op_and_leaf_and_data_flow_edges():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    c = Tensor([5.0, 6.0])
    loss = (a * b + c).sum()
    nodes, edges = parse_dot(to_dot(loss))
    labels = {v.split("\n")[0]: k for k, v in nodes.items()}
    assert sorted(v.split("\n")[0] for v in nodes.values()) == [
        "AddBackward",
        "MulBackward",
        "SumBackward",
        "tensor",
        "tensor",
        "tensor",
    ]
    assert nodes[labels["SumBackward"]] == "SumBackward\n() float32"
    assert nodes[labels["MulBackward"]] == "MulBackward\n(2,) float32"
    mul, add, total = labels["MulBackward"], labels["AddBackward"], labels["SumBackward"]
    assert (mul, add) in edges and (add, total) in edges
    assert len(edges) == 5
    leaf_labels = sorted(v for k, v in nodes.items() if k.startswith("leaf"))
    assert leaf_labels == [
        "tensor\n(2,) float32\nrequires_grad=False",
        "tensor\n(2,) float32\nrequires_grad=True",
        "tensor\n(2,) float32\nrequires_grad=True",
    ]


def test_an_input_used_twice_gives_one_edge():
    x = Tensor([1.0, 2.0], requires_grad=True)
    nodes, edges = parse_dot(to_dot(x * x))
    assert len(nodes) == 2 and len(edges) == 1


def test_a_leaf_alone_is_one_node():
    nodes, edges = parse_dot(to_dot(Tensor([1.0], requires_grad=True)))
    assert list(nodes.values()) == ["tensor\n(1,) float32\nrequires_grad=True"]
    assert edges == []


class Stack(Module):
    """Three Linear layers in a ModuleList and a head: repeated submodules to collapse."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = ModuleList([Linear(4, 4) for _ in range(3)])
        self.head = Linear(4, 1)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = x + layer(x).tanh()
        return self.head(x).sum()


def stack_and_loss() -> tuple[Stack, Tensor]:
    manual_seed(0)
    model = Stack()
    return model, model(Tensor(np.ones((2, 4), dtype=np.float32)))


def test_parameters_are_named_from_the_module():
    model, loss = stack_and_loss()
    nodes, _ = parse_dot(to_dot(loss, model))
    names = sorted(v.split("\n")[0] for k, v in nodes.items() if k.startswith("leaf"))
    assert names == sorted([name for name, _ in model.named_parameters()] + ["tensor"])
    weight = next(v for v in nodes.values() if v.startswith("layers.1.weight"))
    assert weight == "layers.1.weight\n(4, 4) float32\nrequires_grad=True"


def test_depth_zero_draws_one_box_per_repeated_module():
    model, loss = stack_and_loss()
    nodes, edges = parse_dot(to_dot(loss, model, depth=0))
    boxes = {k: v for k, v in nodes.items() if k.startswith("box")}
    titles = sorted(v.split("\n")[0] for v in boxes.values())
    assert titles == [
        "head (Linear)",
        "layers.0 (Linear)",
        "layers.1 (Linear)",
        "layers.2 (Linear)",
    ]
    # the residual add and tanh of each layer are inside its box: linear, tanh, add
    assert "layers.1 (Linear)\n3 ops, 2 parameter tensors" in boxes.values()
    # the boxes form a chain input -> layers.0 -> layers.1 -> layers.2 -> head
    key = {v.split(" ")[0]: k for k, v in boxes.items()}
    chain = ["layers.0", "layers.1", "layers.2", "head"]
    for tail, head in zip(chain, chain[1:]):
        assert (key[tail], key[head]) in edges
    assert sum(1 for k in nodes if k.startswith("op")) == 0
    assert len(edges) == 4  # input -> layers.0, and the chain's three


def test_every_parameter_is_drawn_or_boxed_exactly_once_at_every_depth():
    model, loss = stack_and_loss()
    for depth in (None, 0, 1):
        nodes, _ = parse_dot(to_dot(loss, model, depth=depth))
        drawn = sum(1 for k in nodes if k.startswith("leaf")) - 1  # minus the input
        boxed = sum(
            int(re.search(r"(\d+) parameter", v).group(1))
            for v in nodes.values()
            if "parameter tensors" in v
        )
        assert drawn + boxed == 8, depth


def test_to_dot_after_backward_says_to_retain_the_graph():
    x = Tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        to_dot(y)


def test_bad_arguments_are_named():
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="to_dot: expects a Tensor"):
        to_dot(np.ones(2))
    with pytest.raises(ValueError, match="to_dot: depth"):
        to_dot(x, depth=-1)
    with pytest.raises(TypeError, match="to_dot: module must be a Module"):
        to_dot(x, module=object())


def test_render_dot_writes_a_picture_or_the_dot_text(tmp_path):
    dot = to_dot((Tensor([1.0], requires_grad=True) * 3).sum())
    written = render_dot(dot, tmp_path / "graph.svg")
    assert written.exists()
    if written.suffix == ".dot":  # no graphviz package or no `dot` program: the text
        assert written.read_text() == dot
    else:
        assert written.read_bytes().lstrip().startswith((b"<?xml", b"<svg"))
    assert render_dot(dot, tmp_path / "g.dot").read_text() == dot
