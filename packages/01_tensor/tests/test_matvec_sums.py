"""Sums as matrix-vector products agree with np.sum to rounding, on any shape and layout."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.tensor.matvec_sums import _filled, mean_last, sum_last, sum_rows

SHAPES = [(5,), (3, 7), (2, 4, 6), (2, 3, 1, 5), (0, 4), (4, 0)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_last_and_mean_last_match_numpy(shape, dtype):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    total = sum_last(x)
    assert total.shape == shape[:-1] and total.dtype == dtype
    np.testing.assert_allclose(total, x.sum(axis=-1), **tol)
    if shape[-1]:
        np.testing.assert_allclose(mean_last(x), x.mean(axis=-1), **tol)


@pytest.mark.parametrize("shape", [s for s in SHAPES if len(s) >= 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_rows_sums_axis_minus_two(shape, dtype):
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    total = sum_rows(x)
    assert total.shape == shape[:-2] + shape[-1:] and total.dtype == dtype
    np.testing.assert_allclose(total, x.sum(axis=-2), rtol=1e-5, atol=1e-5)


def test_non_contiguous_inputs_and_exact_small_integers():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    view = np.swapaxes(x, -1, -2)  # (2, 4, 3), not contiguous
    np.testing.assert_array_equal(sum_last(view), view.sum(axis=-1))
    np.testing.assert_array_equal(sum_rows(view), view.sum(axis=-2))
    np.testing.assert_array_equal(mean_last(x[:, :, ::2]), x[:, :, ::2].mean(axis=-1))


def test_the_cached_vectors_cannot_be_changed_by_a_caller():
    x = np.ones((2, 3), dtype=np.float32)
    total = sum_last(x)
    total += 100  # the result is the caller's own array
    assert sum_last(x).tolist() == [3.0, 3.0]
    ones = _filled(3, 1.0, np.dtype(np.float32))  # the vector every sum over 3 reuses
    with pytest.raises(ValueError, match="read-only"):
        ones[0] = 5.0
    assert sum_last(x).tolist() == [3.0, 3.0]
