"""Gradients of the attention op at masked rows and keys, and in float32.

The finite-difference cases of the op (masks, causal with Lq != Lk, shared keys,
dropout, one input at a time) are gradstack.attention's table
(``gradstack.attention.gradcheck_cases``), run by ``test_gradcheck_cases.py``.
"""

import warnings

import numpy as np

from gradstack.attention import scaled_dot_product_attention
from gradstack.autograd import gradcheck
from gradstack.tensor import Tensor


def test_fully_masked_row_gets_zero_output_gradient_and_no_nan(qkv):
    q, k, v = qkv((2,), 3, 4)
    mask = np.ones((2, 3, 4), dtype=bool)
    mask[0, 1] = False  # query 1 of batch 0 sees nothing
    mask[1] = False  # batch 1 sees nothing at all
    assert gradcheck(lambda *t: scaled_dot_product_attention(*t, mask=mask), [q, k, v])
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


def test_float32_backward_keeps_float32():
    rng = np.random.default_rng(0)
    q, k, v = (Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True) for _ in range(3))
    scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()
    assert q.grad.dtype == k.grad.dtype == v.grad.dtype == np.float32
