"""Provenance: grad_fn nodes, their names, inputs, attrs and next_functions; the op registry."""

from __future__ import annotations

import numpy as np
import pytest

import gradstack.tensor as gt
from gradstack.tensor import OPS, AccumulateGrad, Node, Op, Tensor, no_grad

X = np.random.default_rng(3).uniform(0.5, 2.0, size=(2, 3)).astype(np.float32)
MASK = np.array([True, False, True])

# op name -> (expression on a (2, 3) tensor x and a (2, 3) tensor y, grad_fn name)
OP_CASES = {
    "add": (lambda x, y: x + y, "AddBackward"),
    "sub": (lambda x, y: x - y, "SubBackward"),
    "mul": (lambda x, y: x * y, "MulBackward"),
    "div": (lambda x, y: x / y, "DivBackward"),
    "pow": (lambda x, y: x**y, "PowBackward"),
    "neg": (lambda x, y: -x, "NegBackward"),
    "matmul": (lambda x, y: x @ y.T, "MatmulBackward"),
    "exp": (lambda x, y: x.exp(), "ExpBackward"),
    "log": (lambda x, y: x.log(), "LogBackward"),
    "sqrt": (lambda x, y: x.sqrt(), "SqrtBackward"),
    "tanh": (lambda x, y: x.tanh(), "TanhBackward"),
    "abs": (lambda x, y: x.abs(), "AbsBackward"),
    "clip": (lambda x, y: x.clip(0.8, 1.5), "ClipBackward"),
    "astype": (lambda x, y: x.double(), "AstypeBackward"),
    "sum": (lambda x, y: x.sum(1), "SumBackward"),
    "mean": (lambda x, y: x.mean(), "MeanBackward"),
    "max": (lambda x, y: x.max(0), "MaxBackward"),
    "var": (lambda x, y: x.var(-1), "VarBackward"),
    "reshape": (lambda x, y: x.reshape(3, 2), "ReshapeBackward"),
    "transpose": (lambda x, y: x.transpose(), "TransposeBackward"),
    "permute": (lambda x, y: x.permute(1, 0), "PermuteBackward"),
    "unsqueeze": (lambda x, y: x.unsqueeze(0), "UnsqueezeBackward"),
    "squeeze": (lambda x, y: x.squeeze(), "SqueezeBackward"),
    "expand": (lambda x, y: x.expand(4, 2, 3), "ExpandBackward"),
    "getitem": (lambda x, y: x[:, 1], "GetitemBackward"),
    "masked_fill": (lambda x, y: x.masked_fill(MASK, 0.0), "MaskedFillBackward"),
    "where": (lambda x, y: gt.where(MASK, x, y), "WhereBackward"),
    "cat": (lambda x, y: gt.cat([x, y], dim=1), "CatBackward"),
    "stack": (lambda x, y: gt.stack([x, y]), "StackBackward"),
}
COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]


def tensor_ops() -> set[str]:
    """The ops gradstack.tensor registers (other packages may add theirs to OPS)."""
    return {name for name, op in OPS.items() if op.module.startswith("gradstack.tensor.")}


def test_every_op_of_the_module_is_covered_here():
    assert tensor_ops() == set(OP_CASES) | set(COMPARISONS)


@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_op_records_a_named_node_when_an_input_requires_grad(name):
    expression, backward_name = OP_CASES[name]
    x = Tensor(X, requires_grad=True)
    out = expression(x, Tensor(X + 1))
    assert out.requires_grad and not out.is_leaf
    node = out.grad_fn
    assert isinstance(node, Node)
    assert node.name() == backward_name
    assert repr(node) == f"<{backward_name}>"
    assert node.op is OPS[name]
    assert any(t is x for t in node.inputs)
    assert f"grad_fn=<{backward_name}>" in repr(out)


@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_no_node_when_no_input_requires_grad(name):
    expression, _ = OP_CASES[name]
    out = expression(Tensor(X), Tensor(X + 1))
    assert out.grad_fn is None and not out.requires_grad


@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_no_node_under_no_grad(name):
    expression, _ = OP_CASES[name]
    with no_grad():
        out = expression(Tensor(X, requires_grad=True), Tensor(X + 1, requires_grad=True))
    assert out.grad_fn is None and not out.requires_grad


def test_requires_grad_is_any_input_requires_grad():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0], requires_grad=True)
    assert not (a + a).requires_grad
    assert (a + b).requires_grad
    assert (b + a).requires_grad
    assert (2.0 * b).requires_grad
    assert not (np.ones(2) * a).requires_grad


def test_needs_input_grad_marks_the_inputs_that_require_grad():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0], requires_grad=True)
    assert (a * b).grad_fn.needs_input_grad == (False, True)
    assert (b * a).grad_fn.needs_input_grad == (True, False)
    assert (b * 2.0).grad_fn.needs_input_grad == (True, False)


def test_node_keeps_inputs_attrs_and_saved_values():
    x = Tensor(X, requires_grad=True)
    node = x.sum(dim=-1, keepdim=True).grad_fn
    assert node.inputs == (x,)
    assert node.attrs == {"dim": (1,), "keepdim": True}
    assert node.saved is None
    exp_node = x.exp().grad_fn
    np.testing.assert_allclose(exp_node.saved, np.exp(X))
    t = x.transpose()
    assert t.grad_fn.attrs == {"dim0": 0, "dim1": 1}
    assert x.permute(-1, 0).grad_fn.attrs == {"dims": (1, 0)}
    assert gt.cat([x, x], dim=-1).grad_fn.saved == (3, 3)


def test_next_functions_walk_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    y = x * c
    z = (y - x).sum()
    ((sub_node, index),) = z.grad_fn.next_functions
    assert index == 0
    assert sub_node.name() == "SubBackward"
    (mul_node, _), (leaf, _) = sub_node.next_functions
    assert mul_node is y.grad_fn
    assert isinstance(leaf, AccumulateGrad) and leaf.variable is x
    assert leaf.name() == "AccumulateGrad" and leaf.next_functions == ()
    assert repr(leaf) == "<AccumulateGrad>"
    (to_x, _), (to_c, _) = mul_node.next_functions
    assert to_x.variable is x
    assert to_c is None  # c does not require grad


def test_results_of_no_grad_and_detach_are_leaves():
    x = Tensor([1.0], requires_grad=True)
    y = (x * 2).detach()
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None
    assert x.is_leaf
    with no_grad():
        z = x * 2
    assert z.is_leaf and not z.requires_grad


def test_turning_off_requires_grad_on_a_non_leaf_is_an_error():
    y = Tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad = False


def test_requires_grad_can_be_switched_on_a_leaf():
    t = Tensor([1.0])
    t.requires_grad = True
    assert (t * 2).requires_grad
    t.requires_grad = False
    assert not (t * 2).requires_grad


# -- the registry -------------------------------------------------------------------------


def test_ops_carry_their_name_module_and_backward_name():
    op = OPS["masked_fill"]
    assert isinstance(op, Op)
    assert op.name == "masked_fill"
    assert op.backward_name == "MaskedFillBackward"
    assert op.module == "gradstack.tensor.ops.indexing"
    assert op.differentiable
    assert "masked_fill" in repr(op)
    assert gt.get_op("matmul") is OPS["matmul"]


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons_are_registered_as_non_differentiable(name):
    assert not OPS[name].differentiable
    assert "non-differentiable" in repr(OPS[name])


def test_get_op_of_an_unknown_name_lists_the_registered_ops():
    with pytest.raises(KeyError, match="no op named 'nope'.*'matmul'"):
        gt.get_op("nope")


def test_register_op_refuses_a_name_taken_by_another_module():
    def forward(a):
        return a, None

    forward.__module__ = "somewhere.else"
    with pytest.raises(ValueError, match="'add' is already defined in gradstack.tensor.ops"):
        gt.register_op("add")(forward)


def test_register_op_and_apply_extend_the_tensor():
    @gt.register_op("test_double_01")
    def double(a: np.ndarray, *, factor: float) -> tuple[np.ndarray, None]:
        return a * factor, None

    try:
        x = Tensor([1.0, 2.0], requires_grad=True)
        out = gt.apply(double, x, factor=2.0)
        np.testing.assert_array_equal(out.data, [2.0, 4.0])
        assert out.grad_fn.name() == "TestDouble01Backward"
        assert out.grad_fn.attrs == {"factor": 2.0}
    finally:
        del OPS["test_double_01"]


def test_non_differentiable_ops_never_record():
    @gt.register_op("test_sign_01", differentiable=False)
    def sign(a: np.ndarray) -> tuple[np.ndarray, None]:
        return np.sign(a), None

    try:
        out = gt.apply(sign, Tensor([-2.0, 3.0], requires_grad=True))
        assert out.grad_fn is None and not out.requires_grad
        np.testing.assert_array_equal(out.data, [-1.0, 1.0])
    finally:
        del OPS["test_sign_01"]
