"""Bad input to the attention functions fails at the call with a clear message."""

import numpy as np
import pytest

from gradstack.attention import causal_mask, scaled_dot_product_attention
from gradstack.tensor import Tensor

OP = "scaled_dot_product_attention"


def _qkv(q_shape=(2, 3, 4), k_shape=(2, 5, 4), v_shape=(2, 5, 6), dtype=None):
    return [Tensor(np.zeros(s), dtype=dtype) for s in (q_shape, k_shape, v_shape)]


def test_mask_must_be_boolean():
    with pytest.raises(TypeError, match=f"{OP}: mask must be boolean .* got dtype int64"):
        scaled_dot_product_attention(*_qkv(), mask=np.ones((3, 5), dtype=np.int64))
    with pytest.raises(TypeError, match="mask must be a bool Tensor or array, got list"):
        scaled_dot_product_attention(*_qkv(), mask=[[True] * 5] * 3)


@pytest.mark.parametrize("shape", [(5, 3), (3, 4), (3, 2, 3, 5), (2, 2, 3, 5)])
def test_mask_that_does_not_broadcast_names_shapes(shape):
    pattern = rf"mask of shape \({', '.join(map(str, shape))}\) does not broadcast .* \(2, 3, 5\)"
    with pytest.raises(ValueError, match=pattern):
        scaled_dot_product_attention(*_qkv(), mask=np.ones(shape, dtype=bool))


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_out_of_range(p):
    with pytest.raises(ValueError, match=rf"dropout_p must be in \[0, 1\), got {p}"):
        scaled_dot_product_attention(*_qkv(), dropout_p=p)


def test_inner_dims_must_match():
    with pytest.raises(ValueError, match=r"same last dim d, got q \(2, 3, 4\), k \(2, 5, 3\)"):
        scaled_dot_product_attention(*_qkv(k_shape=(2, 5, 3)))
    with pytest.raises(ValueError, match=r"same length Lk .* k \(2, 5, 4\), v \(2, 6, 6\)"):
        scaled_dot_product_attention(*_qkv(v_shape=(2, 6, 6)))


def test_batch_dims_must_broadcast():
    with pytest.raises(ValueError, match=r"batch dims of q \(2, 3, 4\), k \(3, 5, 4\)"):
        scaled_dot_product_attention(*_qkv(k_shape=(3, 5, 4), v_shape=(3, 5, 6)))


def test_types_and_dtypes():
    q, k, v = _qkv()
    with pytest.raises(TypeError, match=f"{OP}: k must be a Tensor, got ndarray"):
        scaled_dot_product_attention(q, k.data, v)
    with pytest.raises(TypeError, match="v must be floating point, got dtype int64"):
        scaled_dot_product_attention(q, k, Tensor(np.zeros((2, 5, 6), dtype=np.int64)))
    with pytest.raises(TypeError, match="must share a dtype, got float64, float32, float32"):
        scaled_dot_product_attention(Tensor(q.data, dtype="float64"), k, v)
    with pytest.raises(TypeError, match="is_causal must be True or False"):
        scaled_dot_product_attention(q, k, v, is_causal="yes")
    with pytest.raises(TypeError, match="scale must be a number or None"):
        scaled_dot_product_attention(q, k, v, scale="big")


def test_rank_and_empty_keys():
    with pytest.raises(ValueError, match=r"q must be \(\.\.\., L, d\), got shape \(4,\)"):
        scaled_dot_product_attention(*_qkv(q_shape=(4,)))
    with pytest.raises(ValueError, match="needs at least one key"):
        scaled_dot_product_attention(*_qkv(k_shape=(2, 0, 4), v_shape=(2, 0, 6)))


def test_causal_mask_values_and_errors():
    mask = causal_mask(4)
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(mask.data, np.tril(np.ones((4, 4), dtype=bool)))
    assert not mask.requires_grad
    with pytest.raises(ValueError, match="causal_mask: seq_len must be a positive int, got 0"):
        causal_mask(0)
    with pytest.raises(TypeError, match="seq_len must be an int, got float"):
        causal_mask(3.0)
