"""Gradients of the attention op, checked against finite differences."""

import warnings

import numpy as np
import pytest

from gradstack.attention import causal_mask, scaled_dot_product_attention
from gradstack.autograd import gradcheck
from gradstack.tensor import Tensor, manual_seed


def _attend(**options):
    def fn(q, k, v):
        return scaled_dot_product_attention(q, k, v, **options)

    return fn


def test_no_mask(qkv):
    assert gradcheck(_attend(), qkv((2, 3), 4, 5, d=3, dv=2))


@pytest.mark.parametrize("mask_shape", [(4, 5), (2, 1, 4, 5)])
def test_boolean_mask_broadcast(qkv, mask_shape):
    mask = np.random.default_rng(3).random(mask_shape) < 0.6
    mask[..., 0] = True  # every query keeps a key: no zero rows here
    assert gradcheck(_attend(mask=mask), qkv((2, 3), 4, 5))


def test_causal_square(qkv):
    assert gradcheck(_attend(is_causal=True), qkv((2, 2), 5, 5))


@pytest.mark.parametrize(("q_len", "k_len"), [(2, 6), (6, 3)])
def test_causal_with_different_lengths(qkv, q_len, k_len):
    assert gradcheck(_attend(is_causal=True), qkv((2,), q_len, k_len, dv=4))


def test_causal_mask_tensor_and_custom_scale(qkv):
    assert gradcheck(_attend(mask=causal_mask(4), scale=0.7), qkv((3,), 4, 4))


def test_shared_keys_and_values_across_heads(qkv):
    q, k, v = qkv((2, 3), 4, 5, k_batch=(2, 1))
    assert gradcheck(_attend(is_causal=True), [q, k, v])


def test_fully_masked_row_gets_zero_output_gradient_and_no_nan(qkv):
    q, k, v = qkv((2,), 3, 4)
    mask = np.ones((2, 3, 4), dtype=bool)
    mask[0, 1] = False  # query 1 of batch 0 sees nothing
    mask[1] = False  # batch 1 sees nothing at all
    assert gradcheck(_attend(mask=mask), [q, k, v])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = scaled_dot_product_attention(q, k, v, mask=mask)
        out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(q.grad.data[0, 1], 0)
    np.testing.assert_array_equal(q.grad.data[1], 0)
    np.testing.assert_array_equal(k.grad.data[1], 0)
    np.testing.assert_array_equal(v.grad.data[1], 0)
    for tensor in (q, k, v):
        assert np.isfinite(tensor.grad.data).all()


def test_masked_keys_get_no_gradient(qkv):
    q, k, v = qkv((2,), 3, 4)
    keep = np.array([True, False, True, False])
    out = scaled_dot_product_attention(q, k, v, mask=keep)
    out.backward(np.random.default_rng(0).standard_normal(out.shape))
    np.testing.assert_array_equal(k.grad.data[:, ~keep], 0)
    np.testing.assert_array_equal(v.grad.data[:, ~keep], 0)
    assert np.abs(v.grad.data[:, keep]).min() > 0


def test_dropout_with_a_fixed_seed(qkv):
    def fn(q, k, v):
        manual_seed(11)  # the same dropout mask for every evaluation
        return scaled_dot_product_attention(q, k, v, dropout_p=0.3, is_causal=True)

    assert gradcheck(fn, qkv((2, 2), 4, 4))


@pytest.mark.parametrize("which", [0, 1, 2])
def test_only_one_input_requires_grad(qkv, which):
    tensors = qkv((2,), 3, 4)
    for i, tensor in enumerate(tensors):
        tensor.requires_grad = i == which
    assert gradcheck(_attend(is_causal=True), tensors)


def test_float32_backward_keeps_float32():
    rng = np.random.default_rng(0)
    q, k, v = (Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True) for _ in range(3))
    scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()
    assert q.grad.dtype == k.grad.dtype == v.grad.dtype == np.float32
