"""Bad input fails at the call with an error naming the op and what was wrong."""

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
from gradstack.tensor import Tensor


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (relu, "relu"),
        (sigmoid, "sigmoid"),
        (tanh, "tanh"),
        (gelu, "gelu"),
        (softmax, "softmax"),
        (log_softmax, "log_softmax"),
    ],
)
def test_non_tensor_input_is_a_type_error(fn, name):
    with pytest.raises(TypeError, match=rf"^{name}: expects a Tensor, got ndarray"):
        fn(np.ones(3))
    with pytest.raises(TypeError, match=rf"^{name}: expects a Tensor, got list"):
        fn([1.0, 2.0])


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (sigmoid, "sigmoid"),
        (tanh, "tanh"),
        (gelu, "gelu"),
        (softmax, "softmax"),
        (log_softmax, "log_softmax"),
    ],
)
def test_integer_input_is_a_type_error_naming_the_dtype(fn, name):
    with pytest.raises(
        TypeError, match=rf"^{name}: expects a floating-point tensor, got dtype int64"
    ):
        fn(Tensor(np.arange(3)))


def test_relu_rejects_boolean_tensors():
    with pytest.raises(
        TypeError, match=r"relu: expects a floating-point or integer tensor, got dtype bool"
    ):
        relu(Tensor(np.array([True, False])))


@pytest.mark.parametrize(("fn", "name"), [(softmax, "softmax"), (log_softmax, "log_softmax")])
@pytest.mark.parametrize("dim", [2, -3, 5])
def test_dim_out_of_range_is_an_index_error_naming_op_and_shape(fn, name, dim):
    with pytest.raises(
        IndexError, match=rf"^{name}: dim {dim} is out of range for a tensor of shape \(2, 3\)"
    ):
        fn(Tensor(np.ones((2, 3))), dim)


@pytest.mark.parametrize(("fn", "name"), [(softmax, "softmax"), (log_softmax, "log_softmax")])
def test_dim_must_be_an_int(fn, name):
    with pytest.raises(TypeError, match=rf"^{name}: dim must be an int, got float"):
        fn(Tensor(np.ones((2, 3))), 1.0)


@pytest.mark.parametrize(("fn", "name"), [(softmax, "softmax"), (log_softmax, "log_softmax")])
def test_zero_dim_tensor_is_an_index_error(fn, name):
    with pytest.raises(
        IndexError, match=rf"^{name}: needs a tensor with at least 1 dim.*shape \(\)"
    ):
        fn(Tensor(1.0))


@pytest.mark.parametrize("approximate", ["sigmoid", "Tanh", None, ""])
def test_unknown_gelu_approximation_is_a_value_error(approximate):
    with pytest.raises(
        ValueError, match=r"^gelu: approximate must be one of \('tanh', 'none'\), got"
    ):
        gelu(Tensor([1.0]), approximate=approximate)
    with pytest.raises(ValueError, match=r"^gelu: approximate must be one of"):
        GELU(approximate=approximate)


@pytest.mark.parametrize("cls", [Softmax, LogSoftmax])
@pytest.mark.parametrize("dim", [1.5, "0", None, True])
def test_activation_classes_check_dim_when_built(cls, dim):
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: dim must be an int"):
        cls(dim=dim)


def test_class_dim_out_of_range_fails_at_the_call():
    with pytest.raises(
        IndexError, match=r"^softmax: dim 3 is out of range for a tensor of shape \(2, 2\)"
    ):
        Softmax(dim=3)(Tensor(np.ones((2, 2))))
