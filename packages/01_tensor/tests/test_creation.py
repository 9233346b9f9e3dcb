"""Creation functions: tensor, zeros/ones(_like), randn/rand, arange, manual_seed."""

from __future__ import annotations

import numpy as np
import pytest

import gradstack.tensor as gt
from gradstack.tensor import Tensor


def test_constructor_keeps_values_and_shape():
    t = Tensor([[1.5, 2.0, -3.0], [4.0, 5.0, 6.25]])
    assert t.shape == (2, 3)
    assert t.ndim == 2
    assert t.numel() == 6
    np.testing.assert_array_equal(t.data, [[1.5, 2.0, -3.0], [4.0, 5.0, 6.25]])


def test_constructor_of_a_float32_array_shares_memory():
    array = np.arange(6, dtype=np.float32)
    assert np.shares_memory(Tensor(array).data, array)


def test_tensor_function_copies_its_data():
    array = np.arange(6, dtype=np.float32)
    t = gt.tensor(array)
    array[0] = 100.0
    assert t.data[0] == 0.0
    assert not np.shares_memory(t.data, array)


def test_tensor_function_copies_a_tensor_as_a_new_leaf():
    source = Tensor([1.0, 2.0], requires_grad=True)
    copy = gt.tensor(source)
    assert copy.grad_fn is None and not copy.requires_grad
    assert not np.shares_memory(copy.data, source.data)
    np.testing.assert_array_equal(copy.data, [1.0, 2.0])


def test_tensor_function_passes_requires_grad_and_dtype():
    t = gt.tensor([1, 2, 3], dtype="float64", requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad


@pytest.mark.parametrize("make", [gt.zeros, gt.ones])
def test_zeros_and_ones_accept_varargs_and_a_tuple(make):
    fill = 0.0 if make is gt.zeros else 1.0
    for t in (make(2, 3), make((2, 3)), make([2, 3])):
        assert t.shape == (2, 3)
        assert t.dtype == np.float32
        np.testing.assert_array_equal(t.data, np.full((2, 3), fill))


def test_zeros_with_no_size_is_a_scalar_and_zero_sizes_are_allowed():
    assert gt.zeros().shape == ()
    assert gt.ones(0, 3).shape == (0, 3)


def test_zeros_and_ones_take_requires_grad_and_dtype():
    t = gt.ones(2, requires_grad=True, dtype="float64")
    assert t.requires_grad and t.dtype == np.float64 and t.is_leaf
    assert gt.zeros(3, dtype="int64").dtype == np.int64


def test_like_functions_copy_shape_and_dtype():
    source = Tensor(np.ones((2, 4)), dtype="float64")
    z, o = gt.zeros_like(source), gt.ones_like(source)
    assert z.shape == o.shape == (2, 4)
    assert z.dtype == o.dtype == np.float64
    np.testing.assert_array_equal(z.data, 0.0)
    np.testing.assert_array_equal(o.data, 1.0)
    assert gt.zeros_like(source, dtype="float32").dtype == np.float32
    assert gt.ones_like(source, requires_grad=True).requires_grad


def test_randn_is_float32_standard_normal():
    gt.manual_seed(0)
    t = gt.randn(200, 100)
    assert t.shape == (200, 100) and t.dtype == np.float32
    assert abs(float(t.data.mean())) < 0.02
    assert abs(float(t.data.std()) - 1.0) < 0.02


def test_rand_is_float32_uniform_in_unit_interval():
    gt.manual_seed(0)
    t = gt.rand((100, 100))
    assert t.dtype == np.float32
    assert t.data.min() >= 0.0 and t.data.max() < 1.0
    assert abs(float(t.data.mean()) - 0.5) < 0.02


def test_random_functions_take_requires_grad_and_float64():
    t = gt.randn(3, requires_grad=True, dtype="float64")
    assert t.requires_grad and t.dtype == np.float64
    assert gt.rand(3, dtype=np.float64).dtype == np.float64


def test_manual_seed_makes_randomness_reproducible():
    gt.manual_seed(1234)
    first = (gt.randn(3, 4).data.copy(), gt.rand(5).data.copy())
    gt.manual_seed(1234)
    second = (gt.randn(3, 4).data, gt.rand(5).data)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    gt.manual_seed(4321)
    assert not np.array_equal(gt.randn(3, 4).data, first[0])


def test_manual_seed_replaces_the_default_generator():
    generator = gt.manual_seed(7)
    assert gt.default_generator() is generator
    expected = np.random.default_rng(7).standard_normal(4, dtype=np.float32)
    np.testing.assert_array_equal(gt.randn(4).data, expected)


def test_manual_seed_accepts_numpy_integers():
    gt.manual_seed(np.int64(3))
    a = gt.rand(2).data.copy()
    gt.manual_seed(3)
    np.testing.assert_array_equal(gt.rand(2).data, a)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((5,), np.arange(5)),
        ((2, 7), np.arange(2, 7)),
        ((0, 10, 3), np.arange(0, 10, 3)),
        ((5, 0, -2), np.arange(5, 0, -2)),
        ((3, 3), np.arange(3, 3)),
    ],
)
def test_arange_of_ints_is_int64(args, expected):
    t = gt.arange(*args)
    assert t.dtype == np.int64
    np.testing.assert_array_equal(t.data, expected)


def test_arange_of_floats_is_float32():
    t = gt.arange(0.0, 1.0, 0.25)
    assert t.dtype == np.float32
    np.testing.assert_allclose(t.data, [0.0, 0.25, 0.5, 0.75])


def test_arange_with_a_dtype_and_requires_grad():
    t = gt.arange(4, dtype="float64", requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad
    np.testing.assert_array_equal(t.data, [0.0, 1.0, 2.0, 3.0])
