"""to_dot on the seed's GPT: the DOT parses, counts match the graph, parameters appear once."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gradstack.autograd import render_dot, to_dot
from gradstack.losses import cross_entropy
from gradstack.tensor import AccumulateGrad, Tensor, manual_seed
from gradstack.transformer import GPT

NODE = re.compile(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)".*\];$')
EDGE = re.compile(r"^  (\w+) -> (\w+);$")


def parse_dot(text: str) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """A strict reader of the DOT subset to_dot writes: {id: label} and (tail, head) edges."""
    lines = text.splitlines()
    assert lines[0] == "digraph gradstack {" and lines[-1] == "}"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[3:-1]:
        if match := EDGE.match(line):
            edges.append(match.groups())
        elif match := NODE.match(line):
            assert match.group(1) not in nodes
            nodes[match.group(1)] = match.group(2).replace("\\n", "\n")
        else:
            raise AssertionError(f"not DOT that to_dot writes: {line!r}")
    assert len(set(edges)) == len(edges)
    assert all(tail in nodes and head in nodes for tail, head in edges)
    return nodes, set(edges)


def walk(loss: Tensor) -> tuple[int, int, int]:
    """Ops, leaves and distinct (input, op) pairs, found through the public next_functions."""
    ops: dict[int, object] = {}
    leaves: set[int] = set()
    pairs: set[tuple[int, int]] = set()
    stack = [loss.grad_fn]
    while stack:
        node = stack.pop()
        if id(node) in ops:
            continue
        ops[id(node)] = node
        for t in node.inputs:  # next_functions skips inputs that need no grad
            key = id(t.grad_fn) if t.grad_fn is not None else id(t)
            pairs.add((key, id(node)))
            if t.grad_fn is None:
                leaves.add(id(t))
        for child, _ in node.next_functions:
            if child is not None and not isinstance(child, AccumulateGrad):
                stack.append(child)
    return len(ops), len(leaves), len(pairs)


@pytest.fixture(scope="module")
def gpt_loss():
    manual_seed(0)
    model = GPT(vocab_size=20, embed_dim=16, num_layers=2, num_heads=4)
    tokens = np.random.default_rng(0).integers(0, 20, size=(2, 6))
    logits = model(Tensor(tokens[:, :-1]))
    loss = cross_entropy(logits.reshape(-1, 20), Tensor(tokens[:, 1:].reshape(-1)))
    return model, loss


def test_full_graph_counts_match_the_recorded_graph(gpt_loss):
    model, loss = gpt_loss
    nodes, edges = parse_dot(to_dot(loss, model))
    n_ops, n_leaves, n_pairs = walk(loss)
    assert sum(k.startswith("op") for k in nodes) == n_ops
    assert sum(k.startswith("leaf") for k in nodes) == n_leaves
    assert len(edges) == n_pairs
    # 37 parameters; ops: per block 2 layer norms, 2 adds, 3 Linear, GELU and the fused
    # attention kernel (q, k, v and attention in one node), then embedding, ln_f, lm_head
    assert n_leaves >= 37 and n_ops > 20


def test_every_gpt_parameter_appears_once_with_its_shape(gpt_loss):
    model, loss = gpt_loss
    nodes, _ = parse_dot(to_dot(loss, model))
    titles = [label.split("\n")[0] for label in nodes.values()]
    params = dict(model.named_parameters())
    assert len(params) == 37
    for name, param in params.items():
        assert titles.count(name) == 1, name
        label = next(v for v in nodes.values() if v.split("\n")[0] == name)
        assert label == f"{name}\n{param.shape} float32\nrequires_grad=True"
    assert sum(label.startswith("CrossEntropyBackward") for label in nodes.values()) == 1


def test_depth_zero_is_one_box_per_transformer_block(gpt_loss):
    model, loss = gpt_loss
    nodes, edges = parse_dot(to_dot(loss, model, depth=0))
    boxes = {v.split("\n")[0]: k for k, v in nodes.items() if k.startswith("box")}
    assert "blocks.0 (TransformerBlock)" in boxes and "blocks.1 (TransformerBlock)" in boxes
    assert (boxes["blocks.0 (TransformerBlock)"], boxes["blocks.1 (TransformerBlock)"]) in edges
    assert sum("(TransformerBlock)" in title for title in boxes) == 2
    counts = [
        int(re.search(r"(\d+) parameter tensors", v).group(1))
        for v in nodes.values()
        if "parameter tensors" in v
    ]
    drawn = sum(k.startswith("leaf") and "requires_grad=True" in v for k, v in nodes.items())
    assert sum(counts) + drawn == 37
    block = nodes[boxes["blocks.1 (TransformerBlock)"]]
    assert "16 parameter tensors" in block


def test_depth_one_opens_the_blocks_into_their_four_parts(gpt_loss):
    model, loss = gpt_loss
    nodes, _ = parse_dot(to_dot(loss, model, depth=1))
    titles = {v.split("\n")[0] for k, v in nodes.items() if k.startswith("box")}
    for i in (0, 1):
        assert {
            f"blocks.{i}.ln1 (LayerNorm)",
            f"blocks.{i}.attn (MultiHeadAttention)",
            f"blocks.{i}.ln2 (LayerNorm)",
            f"blocks.{i}.mlp (MLP)",
        } <= titles


def test_render_dot_with_the_viz_extra_writes_a_picture_or_says_dot_is_missing(gpt_loss, tmp_path):
    """With the graphviz package: an SVG where Graphviz's `dot` program is, else the DOT."""
    graphviz = pytest.importorskip("graphviz", reason="the integration env installs autograd[viz]")
    model, loss = gpt_loss
    dot = to_dot(loss, model, depth=0)
    written = render_dot(dot, tmp_path / "gpt.svg")
    try:
        graphviz.version()
    except graphviz.ExecutableNotFound:
        assert written == tmp_path / "gpt.dot" and written.read_text() == dot
    else:
        assert written == tmp_path / "gpt.svg"
        svg = written.read_text()
        assert "<svg" in svg and svg.count("blocks.") == 2  # one box title per block
