"""The embedding op: forward values, the scatter-add gradient, index checks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstack.embeddings import embedding
from gradstack.embeddings.lookup import scatter_add_rows
from gradstack.tensor import Tensor


def _table(rows=6, dim=3, dtype="float64", seed=0):
    data = np.random.default_rng(seed).standard_normal((rows, dim))
    return Tensor(data, dtype=dtype, requires_grad=True)


def test_forward_picks_rows_for_any_index_shape():
    weight = _table()
    indices = np.array([[0, 5, 2], [2, 2, 1]])
    out = embedding(indices, weight)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.data, weight.data[indices])


def test_grad_fn_is_embedding_backward():
    out = embedding(np.array([1, 2]), _table())
    assert out.grad_fn.name() == "EmbeddingBackward"
    assert repr(out.grad_fn) == "<EmbeddingBackward>"


def test_repeated_index_collects_the_sum_and_unused_rows_stay_zero():
    weight = _table(rows=5, dim=2)
    indices = np.array([[4, 1], [4, 4]])
    upstream = np.arange(8, dtype=np.float64).reshape(2, 2, 2)
    embedding(indices, weight).backward(upstream)
    expected = np.zeros((5, 2))
    expected[4] = upstream[0, 0] + upstream[1, 0] + upstream[1, 1]
    expected[1] = upstream[0, 1]
    np.testing.assert_array_equal(weight.grad.data, expected)


def test_float32_gradient_keeps_float32():
    weight = Tensor(np.ones((4, 3)), requires_grad=True)
    embedding(np.array([0, 0, 3]), weight).sum().backward()
    assert weight.grad.dtype == np.float32
    np.testing.assert_array_equal(weight.grad.data[:, 0], [2, 0, 0, 1])


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 30),
    dim=st.integers(1, 9),
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    seed=st.integers(0, 2**16),
)
def test_scatter_add_matches_np_add_at(rows, dim, shape, seed):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, rows, size=shape)
    upstream = rng.standard_normal(tuple(shape) + (dim,))
    expected = np.zeros((rows, dim))
    np.add.at(expected, indices, upstream)
    result = scatter_add_rows(upstream, indices, rows, np.dtype(np.float64))
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)


def test_indices_may_be_tensor_array_or_list():
    weight = _table()
    expected = weight.data[[3, 0]]
    for indices in (Tensor(np.array([3, 0])), np.array([3, 0], dtype=np.uint8), [3, 0]):
        np.testing.assert_array_equal(embedding(indices, weight).data, expected)


def test_indices_are_copied_so_later_changes_do_not_change_the_gradient():
    weight = _table(rows=4, dim=1)
    indices = np.array([0, 1])
    out = embedding(indices, weight)
    indices[:] = 3
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.data[:, 0], [1, 1, 0, 0])


@pytest.mark.parametrize("bad", [np.array([0.0, 1.0]), np.array([True, False]), "ab", 1.0])
def test_non_integer_indices_are_a_type_error(bad):
    with pytest.raises(TypeError, match="embedding: indices must be"):
        embedding(bad, _table())


@pytest.mark.parametrize("index", [6, 17, -1])
def test_out_of_range_index_is_an_index_error_naming_index_and_size(index):
    with pytest.raises(IndexError, match=rf"index {index} is out of range .* size 6"):
        embedding(np.array([[0, index], [1, 2]]), _table())


def test_weight_must_be_a_2d_tensor():
    with pytest.raises(ValueError, match=r"weight must be 2-D .* \(6,\)"):
        embedding([0], Tensor(np.zeros(6)))
    with pytest.raises(TypeError, match="weight must be a Tensor"):
        embedding([0], np.zeros((6, 2)))
