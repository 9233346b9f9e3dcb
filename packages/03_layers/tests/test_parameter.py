"""Parameter: a float Tensor that requires grad."""

import numpy as np
import pytest

from gradstack.layers import Parameter
from gradstack.tensor import Tensor


def test_parameter_is_a_tensor_that_requires_grad():
    p = Parameter([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(p, Tensor)
    assert p.requires_grad is True
    assert p.is_leaf
    assert p.dtype == np.float32
    np.testing.assert_array_equal(p.data, [[1.0, 2.0], [3.0, 4.0]])


def test_parameter_float64_array_becomes_float32_like_a_tensor():
    assert Parameter(np.zeros(3)).dtype == np.float32


def test_parameter_integer_data_becomes_float32():
    p = Parameter([1, 2, 3])
    assert p.dtype == np.float32
    np.testing.assert_array_equal(p.data, [1.0, 2.0, 3.0])


def test_parameter_from_tensor_shares_array_and_keeps_dtype():
    t = Tensor(np.arange(4.0), dtype="float64")
    p = Parameter(t)
    assert p.dtype == np.float64
    assert p.data is t.data


def test_parameter_can_be_frozen():
    assert Parameter(np.ones(2), requires_grad=False).requires_grad is False


def test_parameter_has_no_instance_dict():
    p = Parameter(np.ones(2))
    with pytest.raises(AttributeError):
        p.typo_attribute = 1


def test_op_on_parameter_gives_plain_tensor():
    p = Parameter(np.ones(2))
    out = p * 2.0
    assert type(out) is Tensor
    np.testing.assert_array_equal(out.data, [2.0, 2.0])
    assert out.requires_grad


def test_parameter_repr_says_parameter():
    text = repr(Parameter(np.ones(2)))
    assert text.startswith("Parameter containing:\n")
    assert "requires_grad=True" in text
