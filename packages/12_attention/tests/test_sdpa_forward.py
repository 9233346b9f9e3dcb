"""Forward values of the attention op against the NumPy reference."""

import warnings

import numpy as np
import pytest

from gradstack.attention import causal_mask, scaled_dot_product_attention
from gradstack.tensor import Tensor, manual_seed


def test_no_mask_matches_reference(qkv, ref):
    q, k, v = qkv((2, 3), 4, 6, d=5, dv=7)
    out = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 4, 7)
    np.testing.assert_allclose(out.data, ref.attention(q.data, k.data, v.data)[0], atol=1e-12)
    assert out.grad_fn.name() == "ScaledDotProductAttentionBackward"


def test_float32_in_float32_out(ref):
    rng = np.random.default_rng(1)
    q, k, v = (Tensor(rng.standard_normal((2, 4, 8))) for _ in range(3))
    out = scaled_dot_product_attention(q, k, v, is_causal=True)
    assert out.dtype == np.float32
    allowed = np.tri(4, dtype=bool)
    expected = ref.attention(q.data, k.data, v.data, allowed)[0]
    np.testing.assert_allclose(out.data, expected, atol=1e-6)


@pytest.mark.parametrize(
    "mask_shape", [(4, 6), (2, 1, 4, 6), (2, 3, 4, 6), (1, 6), (6,), (), (2, 3, 1, 1), (4, 1)]
)
def test_boolean_mask_broadcasts(qkv, ref, mask_shape):
    q, k, v = qkv((2, 3), 4, 6)
    mask = np.asarray(np.random.default_rng(2).random(mask_shape) < 0.6)
    out = scaled_dot_product_attention(q, k, v, mask=Tensor(mask))
    expected = ref.attention(q.data, k.data, v.data, mask)[0]
    np.testing.assert_allclose(out.data, expected, atol=1e-12)


@pytest.mark.parametrize(("q_len", "k_len"), [(5, 5), (2, 7), (1, 4), (6, 3)])
def test_causal_is_bottom_right_aligned(qkv, ref, q_len, k_len):
    q, k, v = qkv((2,), q_len, k_len)
    out = scaled_dot_product_attention(q, k, v, is_causal=True)
    allowed = ref.bottom_right_causal(q_len, k_len)
    np.testing.assert_allclose(out.data, ref.attention(q.data, k.data, v.data, allowed)[0])


def test_causal_when_square_equals_causal_mask(qkv):
    q, k, v = qkv((3,), 5, 5)
    by_flag = scaled_dot_product_attention(q, k, v, is_causal=True)
    by_mask = scaled_dot_product_attention(q, k, v, mask=causal_mask(5))
    np.testing.assert_array_equal(by_flag.data, by_mask.data)


def test_mask_and_causal_combine(qkv, ref):
    q, k, v = qkv((2,), 4, 4)
    padding = np.array([True, True, True, False])  # last key is padding
    out = scaled_dot_product_attention(q, k, v, mask=padding, is_causal=True)
    allowed = np.tri(4, dtype=bool) & padding
    np.testing.assert_allclose(out.data, ref.attention(q.data, k.data, v.data, allowed)[0])


def test_first_query_attends_only_to_itself_under_causal(qkv):
    q, k, v = qkv((1,), 3, 3)
    out = scaled_dot_product_attention(q, k, v, is_causal=True)
    np.testing.assert_allclose(out.data[0, 0], v.data[0, 0])


def test_fully_masked_rows_give_zeros_without_warnings(qkv, ref):
    q, k, v = qkv((2,), 3, 4)
    mask = np.ones((2, 3, 4), dtype=bool)
    mask[0, 1] = False
    mask[1, :, :] = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.isfinite(out.data).all()
    np.testing.assert_array_equal(out.data[0, 1], 0)
    np.testing.assert_array_equal(out.data[1], 0)
    np.testing.assert_allclose(out.data, ref.attention(q.data, k.data, v.data, mask)[0])


def test_causal_with_more_queries_than_keys_zeros_the_early_queries(qkv):
    q, k, v = qkv((1,), 5, 2)
    out = scaled_dot_product_attention(q, k, v, is_causal=True)
    np.testing.assert_array_equal(out.data[0, :3], 0)
    np.testing.assert_allclose(out.data[0, 3], v.data[0, 0])


def test_keys_and_values_shared_across_heads_broadcast(qkv, ref):
    q, k, v = qkv((2, 4), 3, 5, k_batch=(2, 1))
    out = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 4, 3, 3)
    np.testing.assert_allclose(out.data, ref.attention(q.data, k.data, v.data)[0], atol=1e-12)


def test_custom_scale(qkv, ref):
    q, k, v = qkv((2,), 3, 4)
    out = scaled_dot_product_attention(q, k, v, scale=0.3)
    np.testing.assert_allclose(out.data, ref.attention(q.data, k.data, v.data, scale=0.3)[0])


def test_large_scores_are_stable(qkv, ref):
    q, k, v = qkv((2,), 3, 4)
    q.data *= 1e4
    out = scaled_dot_product_attention(q, k, v)
    assert np.isfinite(out.data).all()
    np.testing.assert_allclose(out.data, ref.attention(q.data, k.data, v.data)[0], atol=1e-9)


def test_dropout_zero_draws_nothing_and_changes_nothing(qkv):
    q, k, v = qkv((2,), 3, 4)
    manual_seed(0)
    plain = scaled_dot_product_attention(q, k, v).data
    manual_seed(0)
    with_zero = scaled_dot_product_attention(q, k, v, dropout_p=0.0).data
    from gradstack.tensor import default_generator

    after = default_generator().random()
    manual_seed(0)
    assert after == default_generator().random()
    np.testing.assert_array_equal(plain, with_zero)


def test_dropout_drops_probabilities_and_rescales(ref):
    manual_seed(7)
    q = Tensor(np.zeros((4, 50, 2)))
    k = Tensor(np.zeros((4, 60, 2)))
    v = Tensor(np.eye(60)[None].repeat(4, 0))  # output row = the (dropped) probability row
    out = scaled_dot_product_attention(q, k, v, dropout_p=0.25).data
    kept = out[out != 0]
    np.testing.assert_allclose(kept, 1 / 60 / 0.75, rtol=1e-5)
    assert abs((out == 0).mean() - 0.25) < 0.02
    manual_seed(7)
    again = scaled_dot_product_attention(q, k, v, dropout_p=0.25).data
    np.testing.assert_array_equal(out, again)
