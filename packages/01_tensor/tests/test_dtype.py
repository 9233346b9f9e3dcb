"""dtype rules: float32 unless asked, integers stay integers, scalars never upcast."""

from __future__ import annotations

import numpy as np
import pytest

import gradstack.tensor as gt
from gradstack.tensor import Tensor


@pytest.mark.parametrize(
    "data",
    [[1.5, 2.5], 3.0, np.array([1.0, 2.0]), np.array([1.0], dtype=np.float16), [[1, 2.5]]],
    ids=["list", "python-float", "float64-array", "float16-array", "mixed-list"],
)
def test_floating_data_becomes_float32(data):
    assert Tensor(data).dtype == np.float32
    assert gt.tensor(data).dtype == np.float32


@pytest.mark.parametrize(
    ("data", "dtype"),
    [([1, 2], np.int64), (np.array([1, 2], dtype=np.int32), np.int32), ([True, False], np.bool_)],
)
def test_integer_and_bool_data_keep_their_dtype(data, dtype):
    assert Tensor(data).dtype == dtype


def test_an_explicit_dtype_is_kept():
    assert Tensor([1.0, 2.0], dtype="float64").dtype == np.float64
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert Tensor([1.7, 2.2], dtype="int64").dtype == np.int64


@pytest.mark.parametrize(
    "make",
    [
        lambda: Tensor([1, 2], requires_grad=True),
        lambda: Tensor([1.0], dtype="int32", requires_grad=True),
        lambda: Tensor([True], requires_grad=True),
        lambda: gt.zeros(2, dtype="int64", requires_grad=True),
        lambda: gt.arange(3, requires_grad=True),
        lambda: gt.tensor([1, 2], requires_grad=True),
    ],
)
def test_integer_data_cannot_require_grad(make):
    with pytest.raises(RuntimeError, match="only floating-point tensors can require grad"):
        make()


def test_setting_requires_grad_on_integer_data_is_a_runtime_error():
    t = Tensor([1, 2])
    with pytest.raises(RuntimeError, match="int64"):
        t.requires_grad = True
    assert not t.requires_grad


@pytest.mark.parametrize(
    "expression",
    [
        lambda t: t * 2.0,
        lambda t: 2.0 * t,
        lambda t: t + 1,
        lambda t: t - 0.1,
        lambda t: 0.1 - t,
        lambda t: t / 3,
        lambda t: 3 / t,
        lambda t: t**2,
        lambda t: t**0.5,
        lambda t: 2.0**t,
        lambda t: t * np.float64(2.0),
        lambda t: t + np.int64(2),
        lambda t: t + np.ones(2),
        lambda t: np.ones(2) * t,
        lambda t: t.clip(0.0, 1.0),
        lambda t: t.masked_fill(np.array([True, False]), 1.0),
        lambda t: gt.where(np.array([True, False]), t, 0.5),
    ],
)
def test_python_scalars_and_float64_arrays_never_upcast_float32(expression):
    assert expression(Tensor([1.0, 2.0])).dtype == np.float32


def test_float64_tensors_stay_float64():
    t = Tensor([1.0, 2.0], dtype="float64")
    assert (t * 2.0).dtype == np.float64
    assert (t + Tensor([1.0, 1.0])).dtype == np.float64  # like PyTorch: the wider float


@pytest.mark.parametrize(
    "expression",
    [
        lambda i, f: i + f,
        lambda i, f: f * i,
        lambda i, f: i - f,
        lambda i, f: i / f,
        lambda i, f: f**i,
        lambda i, f: i @ f,
        lambda i, f: i * 2.5,
        lambda i, f: 2.5 - i,
        lambda i, f: i / 2,
        lambda i, f: i / i,
        lambda i, f: gt.where(np.array([True, False]), i, f),
    ],
)
def test_integers_mixed_with_float32_compute_in_float32(expression):
    ints, floats = Tensor([1, 2]), Tensor([0.5, 4.0])
    out = expression(ints, floats)
    assert out.dtype == np.float32


def test_integer_arithmetic_stays_integer():
    i = Tensor([1, 2, 3])
    assert (i + 1).dtype == np.int64
    assert (i * i).dtype == np.int64
    assert (-i).dtype == np.int64
    assert (i**2).dtype == np.int64
    np.testing.assert_array_equal((i * 2 + 1).data, [3, 5, 7])


def test_integer_and_float_mix_gives_the_right_values():
    out = Tensor([1, 2, 3]) * Tensor([0.5, 0.25, 2.0])
    np.testing.assert_allclose(out.data, [0.5, 0.5, 6.0])
    np.testing.assert_allclose((Tensor([1, 2]) / 4).data, [0.25, 0.5])


@pytest.mark.parametrize(
    "comparison",
    [
        lambda t: t > 0,
        lambda t: t >= 0.5,
        lambda t: t < 1,
        lambda t: t <= 2.0,
        lambda t: t == 1.0,
        lambda t: t != Tensor([1.0, 0.0, 2.0]),
        lambda t: 0.5 < t,  # noqa: SIM300 (the reflected comparison is the point)
        lambda t: np.zeros(3) < t,
    ],
)
def test_comparisons_return_bool_tensors_without_grad(comparison):
    t = Tensor([-1.0, 1.0, 2.0], requires_grad=True)
    out = comparison(t)
    assert isinstance(out, Tensor)
    assert out.dtype == np.bool_
    assert not out.requires_grad and out.grad_fn is None


def test_comparison_values_match_numpy():
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    t = Tensor(a)
    np.testing.assert_array_equal((t > 2).data, a > 2)
    np.testing.assert_array_equal((t == Tensor([1.0, 0.0, 3.0])).data, [True, False, True])
    np.testing.assert_array_equal((Tensor([1, 2]) < Tensor([1.5, 1.5])).data, [True, False])


def test_comparison_with_an_unrelated_object_is_not_equal():
    t = Tensor([1.0])
    assert (t == "text") is False
    assert (t != None) is True  # noqa: E711


def test_astype_to_an_integer_dtype_drops_grad():
    t = Tensor([1.7, -2.2], requires_grad=True)
    out = t.astype("int64")
    assert out.dtype == np.int64 and not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(out.data, [1, -2])
    assert (t > 0).astype("float32").dtype == np.float32
