"""The rule table: complete for every op of 01–04, with clear errors when it is not."""

from __future__ import annotations

import numpy as np
import pytest

import gradstack.autograd as autograd
from gradstack.autograd import (
    NOT_DIFFERENTIATED,
    RULES,
    get_rule,
    missing_rules,
    register_rule,
)
from gradstack.tensor import OPS, Tensor, apply, register_op


def test_every_op_of_modules_01_to_04_has_a_rule():
    import gradstack.activations  # noqa: F401  (importing registers the ops)
    import gradstack.layers  # noqa: F401
    import gradstack.losses  # noqa: F401
    import gradstack.tensor  # noqa: F401

    assert missing_rules() == []
    packages = {op.module.split(".")[1] for op in OPS.values()}
    assert {"tensor", "activations", "losses"} <= packages


def test_every_rule_belongs_to_a_registered_differentiable_op():
    orphans = [name for name in RULES if name not in OPS or not OPS[name].differentiable]
    assert orphans == []


def test_the_tensor_package_needs_no_exemptions():
    exempt = [name for name in NOT_DIFFERENTIATED if name in OPS]
    assert [name for name in exempt if OPS[name].module.startswith("gradstack.tensor")] == []


def test_declared_non_differentiable_ops_are_real_ops_with_a_reason():
    for name, reason in NOT_DIFFERENTIATED.items():
        assert name in OPS
        assert isinstance(reason, str) and reason.strip()


def test_comparisons_are_declared_non_differentiable_and_record_nothing():
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        assert not OPS[name].differentiable
    x = Tensor([1.0, 2.0], requires_grad=True)
    mask = x > 1.5
    assert mask.grad_fn is None
    assert not mask.requires_grad
    assert mask.data.tolist() == [False, True]


@pytest.fixture
def op_without_rule():
    """A temporary op with no rule; removed afterwards."""

    @register_op("test_ruleless")
    def forward(a: np.ndarray) -> tuple[np.ndarray, None]:
        return a * 2, None

    try:
        yield forward
    finally:
        OPS.pop("test_ruleless", None)
        RULES.pop("test_ruleless", None)


def test_missing_rules_lists_an_op_without_a_rule(op_without_rule):
    assert missing_rules() == ["test_ruleless"]


def test_backward_through_an_op_without_a_rule_says_where_the_rule_belongs(op_without_rule):
    x = Tensor([1.0], requires_grad=True)
    out = apply(op_without_rule, x)
    with pytest.raises(RuntimeError) as info:
        out.sum().backward()
    message = str(info.value)
    assert "'test_ruleless'" in message
    assert "has no gradient rule" in message
    assert __name__ in message  # the module that defined the op


def test_get_rule_names_the_rules_file_of_a_gradstack_package():
    node = (Tensor([1.0], requires_grad=True) * 2).grad_fn
    assert get_rule(node) is RULES["mul"]


def test_register_rule_refuses_a_second_rule_from_another_module():
    def impostor(g, node):
        return (g, g)

    impostor.__module__ = "somewhere.else"
    with pytest.raises(ValueError, match=r"'add' already has a rule in .*rules\.tensor"):
        register_rule("add")(impostor)
    assert RULES["add"].__module__.endswith("rules.tensor")


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda a, b: a - b, "SubBackward"),
        (lambda a, b: a / b, "DivBackward"),
        (lambda a, b: a @ b.T, "MatmulBackward"),
        (lambda a, b: a.transpose(0, 1), "TransposeBackward"),
        (lambda a, b: a.masked_fill(np.eye(2, dtype=bool), 0.0), "MaskedFillBackward"),
        (lambda a, b: a[0], "GetitemBackward"),
    ],
)
def test_grad_fn_names_follow_pytorch(build, name):
    a = Tensor(np.ones((2, 2)), requires_grad=True)
    b = Tensor(np.ones((2, 2)), requires_grad=True)
    out = build(a, b)
    assert out.grad_fn.name() == name
    assert f"grad_fn=<{name}>" in repr(out)


def test_next_functions_lead_to_the_inputs():
    a = Tensor([1.0], requires_grad=True)
    b = Tensor([2.0])
    h = a * 3
    out = h + b
    (first, _), (second, _) = out.grad_fn.next_functions
    assert first is h.grad_fn
    assert second is None
    ((accumulate, _), (constant, _)) = h.grad_fn.next_functions
    assert accumulate.name() == "AccumulateGrad"
    assert accumulate.variable is a
    assert constant is None


def test_the_public_api_of_gradstack_autograd():
    expected = {
        "backward",
        "grad",
        "no_grad",
        "enable_grad",
        "is_grad_enabled",
        "set_grad_enabled",
        "gradcheck",
        "check_gradients",
        "GradcheckResult",
        "register_rule",
        "get_rule",
        "missing_rules",
        "RULES",
        "NOT_DIFFERENTIATED",
        "sum_to_shape",
        "topological_order",
        "__version__",
    }
    assert expected <= set(autograd.__all__)
    for name in autograd.__all__:
        assert hasattr(autograd, name)
    assert autograd.__version__ == "0.1.0"


@pytest.fixture
def temporary_op():
    """Register ``(name, forward, rule)`` for one test; both are removed afterwards."""
    names = []

    def make(name: str, forward, rule):
        names.append(name)
        op = register_op(name)(forward)
        register_rule(name)(rule)
        return op

    try:
        yield make
    finally:
        for name in names:
            OPS.pop(name, None)
            RULES.pop(name, None)


def test_a_rule_returning_the_wrong_number_of_gradients_is_named(temporary_op):
    op = temporary_op("test_two_inputs", lambda a, b: (a + b, None), lambda g, node: (g,))
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"'test_two_inputs' returned 1 gradients for 2 inputs"):
        apply(op, x, x).sum().backward()


def test_a_rule_returning_a_gradient_of_the_wrong_shape_is_named(temporary_op):
    op = temporary_op("test_bad_shape", lambda a: (a * 2, None), lambda g, node: (np.ones(5),))
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(5,\) from TestBadShapeBackward .*\(2,\)"):
        apply(op, x).sum().backward()
