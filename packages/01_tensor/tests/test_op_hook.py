"""set_op_hook: a tool (the autograd profiler) sees every op; off, apply pays one check."""

from __future__ import annotations

import ast
import inspect
import textwrap

import numpy as np
import pytest

import gradstack.tensor as gt
from gradstack.tensor import Tensor, set_op_hook


@pytest.fixture
def no_hook_after():
    yield
    set_op_hook(None)


def test_a_hook_sees_each_op_and_none_lets_it_run(no_hook_after):
    seen = []

    def hook(op, inputs, attrs):
        seen.append((op.name, len(inputs), dict(attrs)))
        return None

    assert set_op_hook(hook) is None
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.0).sum(dim=0)
    assert y.item() == 6.0 and y.grad_fn.name() == "SumBackward"
    assert seen == [("mul", 2, {}), ("sum", 1, {"dim": (0,), "keepdim": False})]
    assert set_op_hook(None) is hook


def test_a_tensor_returned_by_the_hook_is_the_result(no_hook_after):
    replacement = Tensor([42.0])
    set_op_hook(lambda op, inputs, attrs: replacement)
    assert (Tensor([1.0]) + Tensor([2.0])) is replacement


def test_off_costs_apply_a_single_is_none_check_before_the_op_runs():
    """Structural, not timed: apply's first statement tests the hook against None, once."""
    assert gt.apply.__globals__["_op_hook"] is None  # the hook apply reads
    source = textwrap.dedent(inspect.getsource(gt.apply))
    body = ast.parse(source).body[0].body
    first = body[1]  # body[0] is the docstring
    assert isinstance(first, ast.If)
    test = first.test
    assert isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.IsNot)
    assert ast.unparse(test) == "_op_hook is not None"
    uses = [
        n
        for n in ast.walk(ast.Module(body=body[2:], type_ignores=[]))
        if isinstance(n, ast.Name) and n.id == "_op_hook"
    ]
    assert uses == []  # the rest of apply never looks at the hook
    assert np.array_equal((Tensor([1.0]) + 1.0).data, [2.0])
