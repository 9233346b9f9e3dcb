"""Forward values of the activation functions against float64 NumPy references."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradstack.activations import gelu, log_softmax, relu, sigmoid, softmax, tanh
from gradstack.tensor import Tensor

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 5)) * 3
EXTREMES = np.array([[-1e4, -100.0, -20.0, -1.0, 0.0], [1.0, 20.0, 100.0, 1e4, 3.0]])


def ref_sigmoid(x):
    return np.array([1.0 / (1.0 + math.exp(-v)) if v > -700 else 0.0 for v in x.ravel()]).reshape(
        x.shape
    )


def ref_gelu_exact(x):
    cdf = [0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x.ravel()]  # no cancellation for v < 0
    return x * np.array(cdf).reshape(x.shape)


def ref_gelu_tanh(x):
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    return 0.5 * x * (1.0 + np.tanh(inner))


def ref_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def ref_softmax(x, axis):
    return np.exp(ref_log_softmax(x, axis))


def f64(x):
    return Tensor(x, dtype="float64")


def test_relu_values_and_nan_passes_through():
    np.testing.assert_array_equal(relu(f64(X)).data, np.maximum(X, 0))
    out = relu(Tensor([-1.0, np.nan, 2.0])).data
    assert out[0] == 0 and np.isnan(out[1]) and out[2] == 2


def test_relu_keeps_integer_dtype():
    out = relu(Tensor(np.array([-2, 0, 3])))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, [0, 0, 3])


def test_sigmoid_values():
    np.testing.assert_allclose(sigmoid(f64(X)).data, ref_sigmoid(X), rtol=1e-15, atol=0)


def test_sigmoid_keeps_relative_accuracy_in_the_lower_tail():
    x = np.array([-30.0, -80.0, -700.0])
    np.testing.assert_allclose(sigmoid(f64(x)).data, np.exp(x) / (1 + np.exp(x)), rtol=1e-14)


def test_tanh_values():
    np.testing.assert_allclose(tanh(f64(X)).data, np.tanh(X), rtol=1e-15)


def test_gelu_tanh_values():
    np.testing.assert_allclose(gelu(f64(X)).data, ref_gelu_tanh(X), rtol=1e-13, atol=1e-15)


def test_gelu_exact_values():
    out = gelu(f64(X), approximate="none").data
    np.testing.assert_allclose(out, ref_gelu_exact(X), rtol=2e-7, atol=1e-12)


def test_gelu_exact_keeps_relative_accuracy_in_the_lower_tail():
    x = np.array([-5.0, -8.0, -12.0])
    out = gelu(f64(x), approximate="none").data
    np.testing.assert_allclose(out, ref_gelu_exact(x), rtol=2e-7)
    assert np.all(out < 0)


def test_gelu_approximations_agree_to_about_1e_3():
    x = np.linspace(-6, 6, 1201)
    diff = gelu(f64(x)).data - gelu(f64(x), approximate="none").data
    assert np.max(np.abs(diff)) < 1e-3


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2, -3])
def test_softmax_and_log_softmax_values_along_every_dim(dim):
    np.testing.assert_allclose(softmax(f64(X), dim).data, ref_softmax(X, dim), rtol=1e-13)
    np.testing.assert_allclose(
        log_softmax(f64(X), dim=dim).data, ref_log_softmax(X, dim), rtol=1e-13, atol=1e-13
    )


def test_softmax_default_dim_is_the_last():
    np.testing.assert_allclose(softmax(f64(X)).data, ref_softmax(X, -1), rtol=1e-13)
    np.testing.assert_allclose(log_softmax(f64(X)).data, ref_log_softmax(X, -1), atol=1e-13)


def test_softmax_of_a_1d_tensor_and_of_equal_entries():
    np.testing.assert_allclose(softmax(Tensor([1.0, 1.0, 1.0, 1.0])).data, [0.25] * 4)
    np.testing.assert_allclose(softmax(f64([0.0, np.log(3.0)])).data, [0.25, 0.75], rtol=1e-15)


def test_softmax_of_an_empty_tensor_is_empty():
    out = softmax(Tensor(np.zeros((0, 3), dtype=np.float32)))
    assert out.shape == (0, 3) and out.dtype == np.float32
    assert log_softmax(Tensor(np.zeros((2, 0), dtype=np.float32))).shape == (2, 0)


@pytest.mark.parametrize(
    "fn", [relu, sigmoid, tanh, gelu, lambda t: gelu(t, "none"), softmax, log_softmax]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_shape_are_kept(fn, dtype):
    out = fn(Tensor(X, dtype=dtype))
    assert out.dtype == dtype
    assert out.shape == X.shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_overflow_nan_or_inf_at_large_magnitudes(dtype):
    x = Tensor(EXTREMES, dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        results = {
            "relu": relu(x).data,
            "sigmoid": sigmoid(x).data,
            "tanh": tanh(x).data,
            "gelu": gelu(x).data,
            "gelu_none": gelu(x, approximate="none").data,
            "softmax": softmax(x).data,
            "log_softmax": log_softmax(x).data,
            "softmax0": softmax(x, dim=0).data,
            "log_softmax0": log_softmax(x, dim=0).data,
        }
    for name, out in results.items():
        assert np.all(np.isfinite(out)), name
    np.testing.assert_allclose(
        results["sigmoid"][:, [0, 3]], [[0, 0.2689414213699951], [0.7310585786, 1]]
    )
    for name in ("gelu", "gelu_none"):
        assert results[name][0, 0] == 0 and results[name][1, 3] == 1e4
    np.testing.assert_allclose(results["softmax"].sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        results["log_softmax"][1], [-1e4 + 1, -1e4 + 20, -1e4 + 100, 0, -1e4 + 3]
    )


def test_gelu_at_magnitudes_far_beyond_1e4():
    x = Tensor([-3e38, -1e20, 1e20, 3e38])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        tanh_form = gelu(x).data
        exact = gelu(x, approximate="none").data
    expected = np.array([0, 0, 1e20, 3e38], dtype=np.float32)
    np.testing.assert_array_equal(tanh_form, expected)
    np.testing.assert_array_equal(exact, expected)


@settings(max_examples=50, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
        elements=st.floats(-1e6, 1e6),
    ),
    st.integers(-1, 0),
)
def test_softmax_is_a_distribution_and_exp_of_log_softmax(x, dim):
    probs = softmax(f64(x), dim).data
    assert np.all(probs >= 0) and np.all(probs <= 1)
    np.testing.assert_allclose(probs.sum(axis=dim), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(f64(x), dim).data), probs, atol=1e-12)


def test_softmax_is_invariant_to_adding_a_constant():
    shifted = softmax(f64(X + 1000.0), dim=1).data
    np.testing.assert_allclose(shifted, softmax(f64(X), dim=1).data, rtol=1e-12)


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (relu, "ReluBackward"),
        (sigmoid, "SigmoidBackward"),
        (tanh, "TanhBackward"),
        (gelu, "GeluBackward"),
        (softmax, "SoftmaxBackward"),
        (log_softmax, "LogSoftmaxBackward"),
    ],
)
def test_each_function_is_one_recorded_op(fn, name):
    x = Tensor(X, requires_grad=True)
    out = fn(x)
    assert out.requires_grad
    assert out.grad_fn.name() == name
    assert out.grad_fn.inputs == (x,)
    assert fn(Tensor(X)).grad_fn is None


def test_saved_values_are_what_the_rules_use():
    x = Tensor(X, dtype="float64", requires_grad=True)
    np.testing.assert_allclose(softmax(x, dim=0).grad_fn.saved, ref_softmax(X, 0), rtol=1e-13)
    np.testing.assert_allclose(
        log_softmax(x, dim=1).grad_fn.saved, ref_log_softmax(X, 1), atol=1e-13
    )
    np.testing.assert_allclose(sigmoid(x).grad_fn.saved, ref_sigmoid(X), rtol=1e-15)
    inner = np.tanh(math.sqrt(2 / math.pi) * (X + 0.044715 * X**3))
    np.testing.assert_allclose(gelu(x).grad_fn.saved, inner, rtol=1e-13, atol=1e-15)
    cdf = ref_gelu_exact(X) / X
    np.testing.assert_allclose(gelu(x, "none").grad_fn.saved, cdf, rtol=2e-7, atol=1e-12)
    assert softmax(x, dim=-2).grad_fn.attrs == {"dim": 1}
