"""Linear: forward values against NumPy, the fused op, init bounds and seeding, errors."""

import math

import numpy as np
import pytest

from gradstack.layers import Linear, linear
from gradstack.tensor import OPS, Tensor, manual_seed, no_grad


def reference(x, layer):
    """What NumPy says ``x @ W.T + b`` is, in float64."""
    out = x.astype(np.float64) @ layer.weight.data.astype(np.float64).T
    if layer.bias is not None:
        out = out + layer.bias.data
    return out


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
def test_forward_matches_numpy(shape, bias):
    layer = Linear(3, 6, bias=bias)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out = layer(Tensor(x))
    assert out.shape == shape[:-1] + (6,)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, reference(x, layer), rtol=1e-5, atol=1e-6)


def test_forward_records_one_linear_node():
    layer = Linear(3, 2)
    out = layer(Tensor(np.ones((4, 3))))
    assert out.grad_fn.name() == "LinearBackward"
    assert out.grad_fn.inputs[1] is layer.weight
    assert out.grad_fn.inputs[2] is layer.bias
    assert "linear" in OPS


def test_forward_without_bias_has_two_inputs():
    layer = Linear(3, 2, bias=False)
    out = layer(Tensor(np.ones((4, 3))))
    assert len(out.grad_fn.inputs) == 2
    assert layer.bias is None


def test_no_graph_under_no_grad():
    layer = Linear(3, 2)
    with no_grad():
        out = layer(Tensor(np.ones((4, 3))))
    assert out.grad_fn is None and not out.requires_grad


def test_float64_layer_gives_float64_output():
    layer = Linear(3, 2).double()
    out = layer(Tensor(np.ones((4, 3)), dtype="float64"))
    assert out.dtype == np.float64


def test_functional_linear_matches_module():
    layer = Linear(4, 3)
    x = Tensor(np.random.default_rng(1).standard_normal((2, 4)))
    np.testing.assert_array_equal(linear(x, layer.weight, layer.bias).data, layer(x).data)


def test_weight_shapes_and_parameters():
    layer = Linear(5, 7)
    assert layer.weight.shape == (7, 5) and layer.bias.shape == (7,)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32


def test_init_within_pytorch_bounds_and_spread():
    layer = Linear(64, 128)
    bound = 1.0 / math.sqrt(64)
    for p in (layer.weight, layer.bias):
        assert np.all(np.abs(p.data) <= bound)
    w = layer.weight.data
    assert w.max() > 0.9 * bound and w.min() < -0.9 * bound
    assert abs(w.mean()) < 0.05 * bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.05)


def test_manual_seed_reproduces_init():
    manual_seed(123)
    a = Linear(4, 3)
    manual_seed(123)
    b = Linear(4, 3)
    c = Linear(4, 3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(b.weight.data, c.weight.data)


def test_wrong_input_width_names_op_and_shapes():
    layer = Linear(3, 2)
    message = r"linear: input of shape \(4, 5\) does not match weight of shape \(2, 3\)"
    with pytest.raises(ValueError, match=message):
        layer(Tensor(np.ones((4, 5))))
    with pytest.raises(ValueError, match=r"linear: input of shape \(\)"):
        layer(Tensor(1.0))


def test_integer_input_is_a_type_error():
    with pytest.raises(TypeError, match="linear: input must be floating point, got dtype int64"):
        Linear(3, 2)(Tensor(np.ones((2, 3), dtype=np.int64)))


def test_non_tensor_input_is_a_type_error():
    with pytest.raises(TypeError, match="linear: input must be a Tensor, got ndarray"):
        Linear(3, 2)(np.ones((2, 3)))


def test_functional_bias_shape_checked():
    w = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"linear: bias of shape \(3,\) does not match"):
        linear(Tensor(np.ones((1, 3))), w, Tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"linear: weight must be 2-D"):
        linear(Tensor(np.ones((1, 3))), Tensor(np.ones(3)))


@pytest.mark.parametrize(
    ("args", "error"),
    [((0, 2), ValueError), ((2, -1), ValueError), ((2.0, 2), TypeError), ((True, 2), TypeError)],
)
def test_bad_sizes(args, error):
    with pytest.raises(error, match="Linear: (in|out)_features must be"):
        Linear(*args)


def test_repr():
    assert repr(Linear(3, 2, bias=False)) == "Linear(in_features=3, out_features=2, bias=False)"
