"""The layer_norm op and the LayerNorm module: values, gradients, errors, PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstack.tensor import Tensor
from gradstack.transformer import LayerNorm, layer_norm


def reference_layer_norm(x, gamma, beta, ndim, eps=1e-5):
    """Plain NumPy layer norm in float64, the textbook formula."""
    axes = tuple(range(x.ndim - ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def float64_inputs(rng, x_shape, normalized_shape):
    """x, gamma, beta as float64 tensors that require grad."""
    x = Tensor(rng.standard_normal(x_shape) * 3 + 1, dtype="float64", requires_grad=True)
    gamma = Tensor(rng.standard_normal(normalized_shape), dtype="float64", requires_grad=True)
    beta = Tensor(rng.standard_normal(normalized_shape), dtype="float64", requires_grad=True)
    return x, gamma, beta


@pytest.mark.parametrize(
    ("x_shape", "normalized_shape"),
    [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 5), (3, 5)), ((7,), (7,))],
)
def test_forward_matches_the_formula(x_shape, normalized_shape):
    rng = np.random.default_rng(0)
    x, gamma, beta = float64_inputs(rng, x_shape, normalized_shape)
    out = layer_norm(x, normalized_shape, gamma, beta)
    expected = reference_layer_norm(x.data, gamma.data, beta.data, len(normalized_shape))
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert out.grad_fn.name() == "LayerNormBackward"


def test_gradient_values_of_gamma_and_beta():
    """d/dbeta of sum(y * w) is sum of w over rows; d/dgamma is sum of w * xhat."""
    rng = np.random.default_rng(3)
    x, gamma, beta = float64_inputs(rng, (5, 4), (4,))
    weights = rng.standard_normal((5, 4))
    (layer_norm(x, 4, gamma, beta) * Tensor(weights, dtype="float64")).sum().backward()
    xhat = reference_layer_norm(x.data, 1.0, 0.0, 1)
    np.testing.assert_allclose(beta.grad.data, weights.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(gamma.grad.data, (weights * xhat).sum(axis=0), rtol=1e-10)
    # the input gradient of a layer norm sums to zero over the normalized dim
    np.testing.assert_allclose(x.grad.data.sum(axis=-1), 0.0, atol=1e-12)


def test_float32_stays_float32_and_is_stable_for_large_offsets():
    x = Tensor(np.full((2, 8), 1e4, dtype=np.float32) + np.arange(8, dtype=np.float32))
    out = layer_norm(x, 8)
    assert out.dtype == np.float32
    expected = reference_layer_norm(x.data.astype(np.float64), 1.0, 0.0, 1)
    np.testing.assert_allclose(out.data, expected, atol=1e-4)


def test_constant_rows_give_beta_and_no_nan():
    x = Tensor(np.ones((3, 5), dtype=np.float64), dtype="float64", requires_grad=True)
    beta = Tensor(np.arange(5.0), dtype="float64")
    out = layer_norm(x, 5, None, beta)
    np.testing.assert_allclose(out.data, np.broadcast_to(np.arange(5.0), (3, 5)))
    out.sum().backward()
    assert np.all(np.isfinite(x.grad.data))


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 4),
    width=st.integers(2, 9),
    scale=st.floats(1e-2, 1e3),
    seed=st.integers(0, 2**16),
)
def test_rows_are_standardized(rows, width, scale, seed):
    """With gamma 1 and beta 0 each row has mean 0 and (biased) variance close to 1."""
    data = np.random.default_rng(seed).standard_normal((rows, width)) * scale
    out = layer_norm(Tensor(data, dtype="float64"), width).data
    variance = data.var(axis=-1)
    np.testing.assert_allclose(out.mean(axis=-1), 0.0, atol=1e-9)
    np.testing.assert_allclose(out.var(axis=-1), variance / (variance + 1e-5), rtol=1e-9)


def test_errors_name_the_op_and_shapes():
    x = Tensor(np.zeros((2, 3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 3, 4\).*\(5,\)"):
        layer_norm(x, 5)
    with pytest.raises(ValueError, match=r"layer_norm: weight \(gamma\) has shape \(3,\)"):
        layer_norm(x, 4, Tensor(np.ones(3, dtype=np.float32)))
    with pytest.raises(ValueError, match=r"layer_norm: bias \(beta\) has shape \(4, 1\)"):
        layer_norm(x, 4, None, Tensor(np.ones((4, 1), dtype=np.float32)))
    with pytest.raises(TypeError, match="layer_norm: input must be floating point"):
        layer_norm(Tensor(np.zeros((2, 4), dtype=np.int64)), 4)
    with pytest.raises(ValueError, match="normalized_shape must be positive"):
        layer_norm(x, (0,))
    with pytest.raises(TypeError, match="normalized_shape must be an int"):
        layer_norm(x, "4")
    with pytest.raises(ValueError, match="eps must be positive"):
        layer_norm(x, 4, eps=0.0)
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(4,\)"):
        layer_norm(Tensor(np.zeros(4, dtype=np.float32)), (3, 4))


# -- the module ---------------------------------------------------------------------------


def test_module_parameters_and_defaults():
    norm = LayerNorm(6)
    names = [name for name, _ in norm.named_parameters()]
    assert names == ["gamma", "beta"]
    np.testing.assert_array_equal(norm.gamma.data, np.ones(6, dtype=np.float32))
    np.testing.assert_array_equal(norm.beta.data, np.zeros(6, dtype=np.float32))
    assert norm.gamma.dtype == np.float32 and norm.gamma.requires_grad
    assert norm.eps == 1e-5
    assert repr(norm) == "LayerNorm((6,), eps=1e-05)"


def test_module_over_two_dims_matches_the_reference():
    rng = np.random.default_rng(4)
    norm = LayerNorm((3, 4), eps=1e-3).double()
    norm.gamma.data[...] = rng.standard_normal((3, 4))
    norm.beta.data[...] = rng.standard_normal((3, 4))
    x = Tensor(rng.standard_normal((2, 3, 4)), dtype="float64", requires_grad=True)
    expected = reference_layer_norm(x.data, norm.gamma.data, norm.beta.data, 2, eps=1e-3)
    np.testing.assert_allclose(norm(x).data, expected, rtol=1e-12, atol=1e-12)


def test_module_rejects_bad_arguments():
    with pytest.raises(ValueError, match="eps must be positive"):
        LayerNorm(4, eps=-1.0)
    with pytest.raises(ValueError, match="normalized_shape must be positive"):
        LayerNorm(0)


@pytest.mark.torch
@pytest.mark.parametrize(("x_shape", "normalized_shape"), [((4, 6), (6,)), ((2, 3, 5), (3, 5))])
def test_matches_torch_forward_and_gradients(x_shape, normalized_shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x_np = rng.standard_normal(x_shape).astype(np.float32) * 2
    gamma_np = rng.standard_normal(normalized_shape).astype(np.float32)
    beta_np = rng.standard_normal(normalized_shape).astype(np.float32)
    upstream = rng.standard_normal(x_shape).astype(np.float32)

    x = Tensor(x_np, requires_grad=True)
    gamma = Tensor(gamma_np, requires_grad=True)
    beta = Tensor(beta_np, requires_grad=True)
    out = layer_norm(x, normalized_shape, gamma, beta)
    out.backward(upstream)

    xt = torch.tensor(x_np, requires_grad=True)
    gt = torch.tensor(gamma_np, requires_grad=True)
    bt = torch.tensor(beta_np, requires_grad=True)
    expected = torch.nn.functional.layer_norm(xt, normalized_shape, gt, bt, eps=1e-5)
    expected.backward(torch.tensor(upstream))

    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), atol=1e-4)
    np.testing.assert_allclose(gamma.grad.data, gt.grad.numpy(), atol=1e-4)
    np.testing.assert_allclose(beta.grad.data, bt.grad.numpy(), atol=1e-4)
