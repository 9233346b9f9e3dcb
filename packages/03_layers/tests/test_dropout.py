"""Dropout: inverted scaling, statistics, eval identity, seeding, validation."""

import numpy as np
import pytest

from gradstack.layers import Dropout, dropout
from gradstack.tensor import Tensor, manual_seed


def test_training_output_is_zero_or_scaled_input():
    x = Tensor(np.random.default_rng(0).uniform(1.0, 2.0, size=(50, 40)))
    out = Dropout(0.25)(x)
    kept = out.data != 0
    np.testing.assert_allclose(out.data[kept], x.data[kept] / 0.75, rtol=1e-6)
    assert out.dtype == np.float32


def test_drop_fraction_and_mean_preserved():
    manual_seed(0)
    x = Tensor(np.ones((200, 500)))
    out = Dropout(0.3)(x).data
    assert abs(np.mean(out == 0) - 0.3) < 0.01
    assert abs(out.mean() - 1.0) < 0.02


def test_uses_the_mul_op_with_the_scaled_mask():
    manual_seed(3)
    x = Tensor(np.ones((4, 5)), requires_grad=True)
    out = Dropout(0.5)(x)
    assert out.grad_fn.name() == "MulBackward"
    scale = out.grad_fn.inputs[1].data
    assert set(np.unique(scale)) <= {np.float32(0.0), np.float32(2.0)}
    np.testing.assert_array_equal(out.data, scale)


def test_same_seed_same_mask():
    x = Tensor(np.ones((8, 8)))
    manual_seed(7)
    a = Dropout(0.5)(x).data
    manual_seed(7)
    b = Dropout(0.5)(x).data
    c = Dropout(0.5)(x).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_eval_mode_and_p_zero_are_identity():
    x = Tensor(np.ones((3, 3)))
    layer = Dropout(0.5)
    layer.eval()
    assert layer(x) is x
    assert Dropout(0.0)(x) is x
    assert dropout(x, 0.9, training=False) is x


def test_float64_input_keeps_float64_and_exact_scale():
    manual_seed(1)
    x = Tensor(np.ones((10, 10)), dtype="float64")
    out = dropout(x, 0.1)
    assert out.dtype == np.float64
    assert set(np.unique(out.data)) <= {0.0, 1.0 / 0.9}


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_p_out_of_range(p):
    with pytest.raises(ValueError, match=rf"Dropout: p must be in \[0, 1\), got {p}"):
        Dropout(p)


def test_p_wrong_type_and_input_type():
    with pytest.raises(TypeError, match="Dropout: p must be a number, got str"):
        Dropout("0.5")
    with pytest.raises(TypeError, match="dropout: input must be a Tensor, got ndarray"):
        dropout(np.ones(3), 0.5)


def test_repr():
    assert repr(Dropout(0.2)) == "Dropout(p=0.2)"
