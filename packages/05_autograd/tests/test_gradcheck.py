"""gradcheck: passes right rules, catches wrong ones and names the worst element."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gradstack.autograd import RULES, check_gradients, gradcheck, register_rule
from gradstack.tensor import OPS, Tensor, apply, register_op

WRONG_OP = "test_wrong_square"


@pytest.fixture
def wrong_square():
    """A temporary op ``x ** 2`` whose rule forgets the factor 2; removed afterwards."""

    @register_op(WRONG_OP)
    def forward(a: np.ndarray) -> tuple[np.ndarray, None]:
        return a * a, None

    @register_rule(WRONG_OP)
    def rule(g: np.ndarray, node) -> tuple:
        return (g * node.inputs[0].data,)  # should be 2 g a

    try:
        yield lambda t: apply(forward, t)
    finally:
        OPS.pop(WRONG_OP, None)
        RULES.pop(WRONG_OP, None)


def leaf(values) -> Tensor:
    """A float64 leaf that requires grad."""
    return Tensor(values, dtype="float64", requires_grad=True)


def test_gradcheck_returns_true_for_correct_gradients():
    rng = np.random.default_rng(0)
    a = leaf(rng.standard_normal((3, 4)))
    b = leaf(rng.standard_normal((4, 2)))
    assert gradcheck(lambda x, y: (x @ y).tanh(), [a, b]) is True


def test_gradcheck_accepts_a_single_tensor():
    assert gradcheck(lambda x: x.exp(), leaf([0.1, -0.3])) is True


def test_gradcheck_catches_a_wrong_rule_and_names_the_worst_element(wrong_square):
    x = leaf([[0.5, -1.0, 3.0], [2.0, 0.25, -0.75]])
    with pytest.raises(AssertionError) as info:
        gradcheck(wrong_square, [x])
    message = str(info.value)
    assert "gradcheck failed" in message
    match = re.search(r"input 0 element \((\d), (\d)\): analytic (\S+) vs numeric (\S+)", message)
    assert "through ops test_wrong_square:" in message  # the failing rule's op is named
    assert match is not None, message
    index = (int(match[1]), int(match[2]))
    analytic, numeric = float(match[3]), float(match[4])
    weights = np.random.default_rng(0).standard_normal((2, 3))  # gradcheck's projection
    assert analytic == pytest.approx(weights[index] * x.data[index], rel=1e-6)
    assert numeric == pytest.approx(2 * weights[index] * x.data[index], rel=1e-6)
    errors = np.abs(weights * x.data)  # |analytic - numeric| per element
    assert errors[index] == errors.max()


def test_the_wrong_op_is_gone_after_the_fixture(wrong_square):
    assert WRONG_OP in OPS
    assert WRONG_OP in RULES


def test_the_temporary_op_left_no_trace():
    assert WRONG_OP not in OPS
    assert WRONG_OP not in RULES


def test_gradcheck_can_return_false_instead_of_raising(wrong_square):
    x = leaf([1.0, 2.0])
    assert gradcheck(wrong_square, [x], raise_exception=False) is False


def test_check_gradients_reports_the_errors(wrong_square):
    x = leaf([1.0, -2.0, 0.5])
    result = check_gradients(wrong_square, [x])
    weights = np.random.default_rng(0).standard_normal(3)
    worst = int(np.argmax(np.abs(weights * x.data)))
    assert not result.passed
    assert result.checked == 3
    assert result.worst_input == 0
    assert result.worst_index == (worst,)
    assert result.max_abs_error == pytest.approx(abs(weights[worst] * x.data[worst]), rel=1e-6)
    assert result.max_rel_error == pytest.approx(0.5, rel=1e-6)
    assert f"element ({worst},)" in result.describe()


def test_check_gradients_of_a_correct_function_has_tiny_errors():
    x = leaf([1.0, -2.0, 0.5])
    result = check_gradients(lambda t: t * t * t, [x])
    assert result.passed
    assert result.max_abs_error < 1e-8
    assert result.checked == 3


def test_gradcheck_checks_only_inputs_that_require_grad():
    x = leaf([1.0, 2.0])
    constant = Tensor([3.0, 4.0], dtype="float64")
    result = check_gradients(lambda a, c: a * c, [x, constant])
    assert result.passed
    assert result.checked == 2
    np.testing.assert_array_equal(constant.data, [3.0, 4.0])  # restored after perturbing
    np.testing.assert_array_equal(x.data, [1.0, 2.0])


def test_gradcheck_catches_a_graph_cut_by_detach():
    x = leaf([1.0, 2.0])
    with pytest.raises(AssertionError, match=r"analytic 0 vs numeric"):
        gradcheck(lambda t: t.detach() * t.detach(), [x])


@pytest.fixture
def nan_rule():
    """A temporary identity op whose rule returns NaN for the first element."""

    @register_op("test_nan_identity")
    def forward(a: np.ndarray) -> tuple[np.ndarray, None]:
        return a.copy(), None

    @register_rule("test_nan_identity")
    def rule(g: np.ndarray, node) -> tuple:
        out = g.copy()
        out[0] = np.nan
        return (out,)

    try:
        yield lambda t: apply(forward, t)
    finally:
        OPS.pop("test_nan_identity", None)
        RULES.pop("test_nan_identity", None)


def test_gradcheck_catches_a_nan_gradient(nan_rule):
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(AssertionError, match=r"element \(0,\): analytic nan"):
        gradcheck(nan_rule, [x])


def test_gradcheck_needs_float64_inputs():
    x = Tensor([1.0, 2.0], requires_grad=True)  # float32
    with pytest.raises(TypeError, match=r"input 0 is float32.*float64"):
        gradcheck(lambda t: t * 2, [x])


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match=r"no input requires grad"):
        gradcheck(lambda t: t * 2, [Tensor([1.0], dtype="float64")])


def test_gradcheck_needs_fn_to_return_a_tensor():
    with pytest.raises(TypeError, match=r"fn must return a Tensor, got float"):
        gradcheck(lambda t: 1.0, [leaf([1.0])])
