"""Gradient rules of module 02 (activations), checked by value: gradcheck and PyTorch."""

import math

import numpy as np
import pytest

from gradstack.activations import (
    GELU,
    LogSoftmax,
    Softmax,
    gelu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from gradstack.activations.gradcheck_cases import GELU_EDGES, GRADCHECK_CASES
from gradstack.autograd import RULES, grad, gradcheck
from gradstack.tensor import OPS, Tensor

RNG = np.random.default_rng(42)


def away_from_zero(shape, scale=2.0):
    """Normal samples pushed at least 0.05 from 0, where relu has its kink."""
    x = RNG.standard_normal(shape) * scale
    return x + np.where(x >= 0, 0.05, -0.05)


def leaf(array):
    return Tensor(np.array(array, dtype=np.float64), dtype="float64", requires_grad=True)


def input_grad(fn, x, upstream):
    """d sum(fn(x) * upstream) / dx as an ndarray."""
    (g,) = grad(fn(x), [x], grad_outputs=upstream)
    return g.data


def test_every_activation_op_has_a_rule():
    for name in ("relu", "sigmoid", "gelu", "softmax", "log_softmax", "tanh"):
        assert name in OPS and name in RULES


# -- gradcheck: the table gradstack.activations exports -------------------------------
# (tests/test_gradcheck_tables.py runs every case of it; here: that it covers every op)


def test_every_activation_op_has_a_gradcheck_case():
    covered = {case.op for case in GRADCHECK_CASES}
    assert {"relu", "sigmoid", "gelu", "softmax", "log_softmax", "tanh"} <= covered


# -- values ---------------------------------------------------------------------------


def test_relu_gradient_is_zero_at_zero_and_one_above():
    x = leaf([-2.0, -0.0, 0.0, 1e-30, 3.0])
    np.testing.assert_array_equal(input_grad(relu, x, np.ones(5)), [0, 0, 0, 1, 1])


@pytest.mark.parametrize("approximate", ["tanh", "none"])
def test_gelu_slopes_around_the_saturation_point_and_far_out(approximate):
    x = leaf(GELU_EDGES)  # the table's "edges" cases gradcheck the same points
    slopes = input_grad(lambda t: gelu(t, approximate=approximate), x, np.ones(13))
    assert slopes[0] == 0 and slopes[-1] == 1
    assert abs(slopes[6] - 0.5) < 1e-7


def test_gelu_exact_gradient_is_phi_plus_x_pdf():
    x = np.linspace(-6, 6, 121)
    expected = [
        0.5 * math.erfc(-v / math.sqrt(2)) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi)
        for v in x
    ]
    got = input_grad(lambda t: gelu(t, approximate="none"), leaf(x), np.ones_like(x))
    np.testing.assert_allclose(got, expected, atol=2e-7)


def test_gelu_tanh_gradient_matches_the_formula():
    x = np.linspace(-6, 6, 121)
    k, c = math.sqrt(2 / math.pi), 0.044715
    t = np.tanh(k * (x + c * x**3))
    expected = 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * k * (1 + 3 * c * x**2)
    got = input_grad(gelu, leaf(x), np.ones_like(x))
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("approximate", ["tanh", "none"])
def test_zero_dim_inputs(approximate):
    assert gradcheck(lambda t: gelu(t, approximate=approximate), [leaf(0.7)])
    assert gradcheck(sigmoid, [leaf(-1.3)])
    assert gradcheck(relu, [leaf(2.0)])


def test_classes_have_the_same_gradients_as_the_functions():
    x = leaf(RNG.standard_normal((3, 5)))
    upstream = RNG.standard_normal((3, 5))
    np.testing.assert_array_equal(
        input_grad(GELU("none"), x, upstream),
        input_grad(lambda t: gelu(t, "none"), x, upstream),
    )
    np.testing.assert_array_equal(
        input_grad(Softmax(dim=0), x, upstream), input_grad(lambda t: softmax(t, 0), x, upstream)
    )
    np.testing.assert_array_equal(
        input_grad(LogSoftmax(), x, upstream), input_grad(log_softmax, x, upstream)
    )


# -- stability and memory -------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradients_are_finite_at_large_magnitudes(dtype):
    data = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4], [1e4, 1e4 - 1, -1e4, 3.0, 0.5]])
    fns = [relu, sigmoid, tanh, gelu, lambda t: gelu(t, "none"), softmax, log_softmax]
    for fn in fns:
        x = Tensor(data, dtype=dtype, requires_grad=True)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            fn(x).sum().backward()
        assert x.grad.dtype == np.dtype(dtype)
        assert np.all(np.isfinite(x.grad.data))
    x = Tensor(data, requires_grad=True)
    sigmoid(x).sum().backward()
    assert x.grad.data[0, 0] == 0 and x.grad.data[0, 2] == 0.25


def test_softmax_of_a_sum_has_zero_gradient():
    x = leaf(RNG.standard_normal((4, 6)) * 5)
    softmax(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 0, atol=1e-15)


@pytest.mark.parametrize(
    "fn", [relu, sigmoid, gelu, lambda t: gelu(t, "none"), softmax, log_softmax]
)
def test_rules_never_hand_out_saved_arrays(fn):
    """Two backward passes with retain_graph accumulate exactly twice the gradient."""
    x = leaf(away_from_zero((3, 4)))
    out = fn(x)
    saved = None if out.grad_fn.saved is None else out.grad_fn.saved.copy()
    upstream = RNG.standard_normal((3, 4))
    out.backward(upstream, retain_graph=True)
    first = x.grad.data.copy()
    out.backward(upstream)
    np.testing.assert_allclose(x.grad.data, 2 * first, rtol=1e-15)
    if saved is not None:
        fresh = fn(leaf(x.data)).grad_fn.saved
        np.testing.assert_array_equal(fresh, saved)


# -- PyTorch --------------------------------------------------------------------------


def _torch_cases(torch):
    functional = torch.nn.functional
    return [
        (relu, functional.relu),
        (sigmoid, torch.sigmoid),
        (tanh, torch.tanh),
        (gelu, lambda t: functional.gelu(t, approximate="tanh")),
        (lambda t: gelu(t, "none"), functional.gelu),
        (lambda t: softmax(t, 1), lambda t: functional.softmax(t, dim=1)),
        (lambda t: softmax(t, -1), lambda t: functional.softmax(t, dim=-1)),
        (lambda t: log_softmax(t, 0), lambda t: functional.log_softmax(t, dim=0)),
        (lambda t: log_softmax(t, -1), lambda t: functional.log_softmax(t, dim=-1)),
    ]


@pytest.mark.torch
def test_forward_and_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    x = away_from_zero((2, 3, 7), scale=4.0)
    x[0, 0, :3] = [-1e4, 1e4, 60.0]
    upstream = RNG.standard_normal(x.shape)
    for ours, theirs in _torch_cases(torch):
        tx = torch.tensor(x, requires_grad=True)
        expected = theirs(tx)
        expected.backward(torch.tensor(upstream))
        gx = leaf(x)
        out = ours(gx)
        out.backward(upstream)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(gx.grad.data, tx.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.torch
def test_float32_matches_pytorch_float32():
    torch = pytest.importorskip("torch")
    x = (RNG.standard_normal((8, 33)) * 3).astype(np.float32)
    upstream = RNG.standard_normal(x.shape).astype(np.float32)
    for ours, theirs in _torch_cases(torch):
        tx = torch.tensor(x, requires_grad=True)
        expected = theirs(tx)
        expected.backward(torch.tensor(upstream))
        gx = Tensor(x, requires_grad=True)
        out = ours(gx)
        out.backward(upstream)
        assert out.dtype == np.float32 and gx.grad.dtype == np.float32
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(gx.grad.data, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
