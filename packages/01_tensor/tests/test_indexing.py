"""Indexing, masked_fill and where: values against NumPy, views for basic indices."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.tensor import Tensor, where

DATA = np.arange(24, dtype=np.float32).reshape(2, 3, 4)

INDICES = [
    1,
    -1,
    (1, 2),
    (0, -1, 3),
    slice(None, None, 2),
    (slice(None), 1),
    (Ellipsis, 2),
    (None, 0),
    (0, None, slice(1, 3)),
    np.array([1, 0, 1]),
    [1, 0],
    (slice(None), np.array([0, 2, 2])),
    (np.array([0, 1]), np.array([2, 0])),
    DATA > 10,
    (slice(None), np.array([True, False, True])),
    np.int64(1),
]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_getitem_matches_numpy(index):
    out = Tensor(DATA)[index]
    expected = DATA[index]
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)


def test_tensor_indices_work_like_their_arrays():
    t = Tensor(DATA)
    np.testing.assert_array_equal(t[Tensor([1, 0])].data, DATA[[1, 0]])
    np.testing.assert_array_equal(t[t > 10].data, DATA[DATA > 10])
    np.testing.assert_array_equal(t[:, Tensor([2, 0])].data, DATA[:, [2, 0]])


def test_basic_indices_give_views_and_advanced_ones_copies():
    t = Tensor(DATA.copy())
    assert np.shares_memory(t[1].data, t.data)
    assert np.shares_memory(t[:, 1:, None].data, t.data)
    assert not np.shares_memory(t[[0, 1]].data, t.data)
    assert not np.shares_memory(t[t > 3].data, t.data)


@pytest.mark.parametrize("index", [0, (slice(None), 1), [1, 1, 0], (Ellipsis, np.array([3]))])
def test_getitem_preserves_requires_grad(index):
    out = Tensor(DATA, requires_grad=True)[index]
    assert out.requires_grad and out.grad_fn is not None
    assert out.grad_fn.name() == "GetitemBackward"


def test_iteration_yields_rows():
    rows = list(Tensor(DATA))
    assert len(rows) == 2
    np.testing.assert_array_equal(rows[1].data, DATA[1])


# -- masked_fill and where -------------------------------------------------------------


def test_masked_fill_with_a_broadcast_mask():
    mask = np.array([True, False, False, True])
    out = Tensor(DATA).masked_fill(mask, -1.0)
    np.testing.assert_array_equal(out.data, np.where(mask, -1.0, DATA))
    assert out.dtype == np.float32


def test_masked_fill_with_a_tensor_mask_and_minus_infinity():
    scores = Tensor(np.zeros((3, 3), dtype=np.float32))
    causal = Tensor(np.triu(np.ones((3, 3), dtype=bool), k=1))
    out = scores.masked_fill(causal, float("-inf"))
    assert np.isneginf(out.data[0, 1]) and out.data[1, 0] == 0.0
    assert np.isneginf(out.data).sum() == 3


def test_masked_fill_keeps_the_input_unchanged():
    t = Tensor(DATA.copy())
    t.masked_fill(t > 5, 0.0)
    np.testing.assert_array_equal(t.data, DATA)


def test_masked_fill_of_an_integer_tensor_with_an_integer_value():
    out = Tensor([1, 2, 3]).masked_fill(np.array([False, True, False]), 7)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, [1, 7, 3])


def test_where_matches_numpy_with_broadcasting():
    condition = DATA > 11
    other = np.float32(-1.0) * np.ones((3, 1), dtype=np.float32)
    out = where(condition, Tensor(DATA), Tensor(other))
    np.testing.assert_array_equal(out.data, np.where(condition, DATA, other))


def test_where_takes_a_tensor_condition_and_scalars():
    t = Tensor([-1.0, 2.0, -3.0])
    out = where(t > 0, t, 0.0)
    np.testing.assert_array_equal(out.data, [0.0, 2.0, 0.0])
    assert out.dtype == np.float32
    both = where(t > 0, 1.0, -1.0)
    np.testing.assert_array_equal(both.data, [-1.0, 1.0, -1.0])
    assert both.dtype == np.float32


def test_where_records_grad_for_tensor_branches():
    t = Tensor([1.0, -1.0], requires_grad=True)
    out = where(t > 0, t, 0.0)
    assert out.requires_grad and out.grad_fn.name() == "WhereBackward"
