"""The activation classes: the same values as the functions, PyTorch-style repr."""

import numpy as np
import pytest

from gradstack.activations import (
    GELU,
    Activation,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    gelu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from gradstack.tensor import Tensor

X = Tensor(np.random.default_rng(1).standard_normal((2, 3, 4)) * 4)


@pytest.mark.parametrize(
    ("module", "function"),
    [
        (ReLU(), relu),
        (Sigmoid(), sigmoid),
        (Tanh(), tanh),
        (GELU(), gelu),
        (GELU("none"), lambda x: gelu(x, approximate="none")),
        (GELU(approximate="tanh"), lambda x: gelu(x, approximate="tanh")),
        (Softmax(), softmax),
        (Softmax(dim=0), lambda x: softmax(x, dim=0)),
        (Softmax(-2), lambda x: softmax(x, dim=1)),
        (LogSoftmax(), log_softmax),
        (LogSoftmax(dim=1), lambda x: log_softmax(x, dim=-2)),
    ],
)
def test_class_equals_function(module, function):
    out = module(X)
    np.testing.assert_array_equal(out.data, function(X).data)
    np.testing.assert_array_equal(module.forward(X).data, out.data)
    assert isinstance(module, Activation)


def test_repr_and_defaults():
    assert repr(ReLU()) == "ReLU()"
    assert repr(Sigmoid()) == "Sigmoid()"
    assert repr(Tanh()) == "Tanh()"
    assert repr(GELU()) == "GELU(approximate='tanh')"
    assert repr(GELU(approximate="none")) == "GELU(approximate='none')"
    assert repr(Softmax()) == "Softmax(dim=-1)"
    assert repr(LogSoftmax(dim=0)) == "LogSoftmax(dim=0)"
    assert GELU().approximate == "tanh"
    assert Softmax().dim == -1 and LogSoftmax(2).dim == 2


def test_classes_record_the_graph_like_the_functions():
    x = Tensor(X.data, requires_grad=True)
    assert GELU()(x).grad_fn.name() == "GeluBackward"
    assert LogSoftmax()(x).grad_fn.name() == "LogSoftmaxBackward"


def test_base_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Activation must define forward"):
        Activation()(X)
