"""Unary elementwise ops: exp, log, sqrt, tanh, abs, clip, astype."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.tensor import Tensor

RNG = np.random.default_rng(1)
DATA = RNG.uniform(0.1, 3.0, size=(3, 4)).astype(np.float32)
SIGNED = RNG.uniform(-3.0, 3.0, size=(2, 5)).astype(np.float32)


@pytest.mark.parametrize(
    ("method", "reference"),
    [("exp", np.exp), ("log", np.log), ("sqrt", np.sqrt), ("tanh", np.tanh), ("abs", np.abs)],
)
def test_unary_functions_match_numpy_in_float32(method, reference):
    out = getattr(Tensor(DATA), method)()
    assert out.dtype == np.float32 and out.shape == DATA.shape
    np.testing.assert_allclose(out.data, reference(DATA), rtol=1e-6)


def test_abs_and_tanh_on_signed_values():
    np.testing.assert_array_equal(Tensor(SIGNED).abs().data, np.abs(SIGNED))
    np.testing.assert_allclose(Tensor(SIGNED).tanh().data, np.tanh(SIGNED), rtol=1e-6)


def test_unary_functions_keep_float64():
    data = SIGNED.astype(np.float64)
    assert Tensor(data, dtype="float64").exp().dtype == np.float64
    assert Tensor(data, dtype="float64").tanh().dtype == np.float64


@pytest.mark.parametrize("method", ["exp", "log", "sqrt", "tanh"])
def test_unary_functions_of_integers_are_float32(method):
    out = getattr(Tensor([1, 2, 3]), method)()
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, getattr(np, method)(np.array([1.0, 2.0, 3.0])), rtol=1e-6)


def test_abs_of_integers_stays_integer():
    out = Tensor([-2, 3]).abs()
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, [2, 3])


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"min": -1.0, "max": 1.0}, np.clip(SIGNED, -1.0, 1.0)),
        ({"min": 0.0}, np.maximum(SIGNED, 0.0)),
        ({"max": 0.5}, np.minimum(SIGNED, 0.5)),
        ({"min": 1, "max": 1}, np.ones_like(SIGNED)),
    ],
)
def test_clip_matches_numpy(bounds, expected):
    out = Tensor(SIGNED).clip(**bounds)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, expected)


def test_clamp_is_clip():
    np.testing.assert_array_equal(
        Tensor(SIGNED).clamp(-0.5, 0.5).data, Tensor(SIGNED).clip(-0.5, 0.5).data
    )


def test_astype_float_and_double():
    t = Tensor([1.5, -2.0])
    assert t.double().dtype == np.float64
    assert t.double().float().dtype == np.float32
    assert t.astype("float64").dtype == np.float64
    np.testing.assert_array_equal(t.astype(np.int64).data, [1, -2])


def test_astype_to_the_same_dtype_shares_memory():
    t = Tensor([1.0, 2.0])
    assert np.shares_memory(t.astype("float32").data, t.data)
