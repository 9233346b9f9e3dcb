"""Reductions: sum, mean, max, var over None, one dim, several dims, negative dims, keepdim."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.tensor import Tensor

DATA = np.random.default_rng(2).standard_normal((2, 3, 4)).astype(np.float32)

DIMS = [None, 0, 1, -1, -2, (0, 2), (2, 0), [1, -1], (0, 1, 2)]


def axis(dim):
    """NumPy's spelling of a gradstack dim."""
    return tuple(dim) if isinstance(dim, list) else dim


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize(("method", "reference"), [("sum", np.sum), ("mean", np.mean)])
def test_sum_and_mean_match_numpy(method, reference, dim, keepdim):
    out = getattr(Tensor(DATA), method)(dim=dim, keepdim=keepdim)
    expected = reference(DATA, axis=axis(dim), keepdims=keepdim)
    assert out.shape == expected.shape
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS)
def test_max_returns_the_values_as_a_tensor(dim, keepdim):
    out = Tensor(DATA).max(dim, keepdim=keepdim)
    assert isinstance(out, Tensor)
    expected = np.max(DATA, axis=axis(dim), keepdims=keepdim)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)


def test_max_dim_positional_is_values_only():
    t = Tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    out = t.max(1)
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.data, [5.0, 7.0])
    assert t.max().item() == 7.0


@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS)
def test_var_matches_numpy_with_correction(dim, keepdim, correction):
    count = DATA.size // np.max(DATA, axis=axis(dim), keepdims=False).size
    if count <= correction:  # nothing left to divide by: an error, not inf or NaN
        with pytest.raises(ValueError, match=r"var: 2 element\(s\) over dim \(0,\)"):
            Tensor(DATA).var(dim, keepdim=keepdim, correction=correction)
        return
    out = Tensor(DATA).var(dim, keepdim=keepdim, correction=correction)
    expected = np.var(DATA.astype(np.float64), axis=axis(dim), keepdims=keepdim, ddof=correction)
    assert out.shape == expected.shape
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)


def test_var_default_is_unbiased_like_pytorch():
    assert Tensor([1.0, 2.0, 3.0, 4.0]).var().item() == pytest.approx(5.0 / 3.0)


def test_reductions_of_a_scalar_tensor():
    t = Tensor(3.5)
    assert t.sum().item() == 3.5
    assert t.mean().item() == 3.5
    assert t.max().item() == 3.5


def test_integer_reductions_follow_pytorch_dtypes():
    t = Tensor([[1, 2], [3, 5]])
    assert t.sum().dtype == np.int64 and t.sum().item() == 11
    assert t.max().dtype == np.int64 and t.max().item() == 5
    assert t.mean().dtype == np.float32 and t.mean().item() == pytest.approx(2.75)
    assert t.var().dtype == np.float32
    np.testing.assert_allclose(t.var(0).data, [2.0, 4.5])


def test_sum_of_a_bool_mask_counts():
    mask = Tensor([1.0, -2.0, 3.0]) > 0
    assert mask.sum().item() == 2


def test_reductions_over_empty_output_dims_are_empty():
    t = Tensor(np.zeros((0, 3), dtype=np.float32))
    assert t.max(1).shape == (0,)
    assert t.mean(1).shape == (0,)
    assert t.sum(0).shape == (3,)
    np.testing.assert_array_equal(t.sum(0).data, [0.0, 0.0, 0.0])


def test_float64_reductions_stay_float64():
    t = Tensor(DATA, dtype="float64")
    for out in (t.sum(), t.mean(1), t.max(0), t.var(-1)):
        assert out.dtype == np.float64
