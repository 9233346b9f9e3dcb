"""Rules of gradstack.tensor against gradients computed by hand, for the tricky cases."""

from __future__ import annotations

import numpy as np
import pytest

import gradstack.tensor as gt
from gradstack.autograd import gradcheck
from gradstack.tensor import Tensor


def leaf(values, dtype="float64") -> Tensor:
    """A leaf that requires grad (float64 unless asked)."""
    return Tensor(values, dtype=dtype, requires_grad=True)


def grad_of(out: Tensor, x: Tensor, weights=None) -> np.ndarray:
    """Run backward with ``weights`` (ones by default) and return ``x.grad`` as an array."""
    out.backward(np.ones(out.shape) if weights is None else weights)
    return x.grad.data


# -- getitem --------------------------------------------------------------------------


def test_repeated_integer_indices_add_up():
    x = leaf(np.arange(5.0))
    g = grad_of(x[np.array([0, 3, 0, 0, 4])], x, np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(g, [1.0 + 3.0 + 4.0, 0.0, 0.0, 2.0, 5.0])


def test_repeated_index_pairs_add_up():
    x = leaf(np.zeros((2, 3)))
    rows, cols = np.array([1, 1, 0, 1]), np.array([2, 2, 0, 2])
    g = grad_of(x[rows, cols], x, np.array([1.0, 10.0, 100.0, 1000.0]))
    np.testing.assert_array_equal(g, [[100.0, 0.0, 0.0], [0.0, 0.0, 1011.0]])


def test_a_python_list_index_with_repeats_adds_up():
    x = leaf(np.arange(4.0))
    g = grad_of(x[[2, 2, 2]].sum(), x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 3.0, 0.0])


def test_a_list_inside_a_tuple_index_adds_up():
    x = leaf(np.zeros((3, 2)))
    g = grad_of(x[[0, 0], 1].sum(), x)
    np.testing.assert_array_equal(g, [[0.0, 2.0], [0.0, 0.0], [0.0, 0.0]])


def test_an_index_tensor_selects_like_an_array():
    x = leaf(np.arange(4.0))
    g = grad_of(x[Tensor(np.array([1, 1, 3]))].sum(), x)
    np.testing.assert_array_equal(g, [0.0, 2.0, 0.0, 1.0])


def test_a_boolean_mask_sends_gradient_to_the_selected_places_only():
    x = leaf(np.arange(6.0).reshape(2, 3))
    mask = x.data % 2 == 1  # [[F, T, F], [T, F, T]]
    g = grad_of(x[mask], x, np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(g, [[0.0, 10.0, 0.0], [20.0, 0.0, 30.0]])


def test_a_boolean_mask_tensor_from_a_comparison():
    x = leaf([[-1.0, 2.0], [3.0, -4.0]])
    g = grad_of(x[x > 0].sum(), x)
    np.testing.assert_array_equal(g, [[0.0, 1.0], [1.0, 0.0]])


def test_slices_with_steps_scatter_to_every_other_place():
    x = leaf(np.zeros((4, 5)))
    weights = np.arange(1.0, 7.0).reshape(2, 3)
    g = grad_of(x[1::2, ::2], x, weights)
    expected = np.zeros((4, 5))
    expected[1::2, ::2] = weights
    np.testing.assert_array_equal(g, expected)
    assert g[1, 0] == 1.0 and g[3, 4] == 6.0 and g[0].sum() == 0.0


def test_a_negative_step_reverses_the_gradient():
    x = leaf(np.zeros(4))
    g = grad_of(x[::-2], x, np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 2.0, 0.0, 1.0])


# -- max ------------------------------------------------------------------------------


def test_max_over_a_dim_shares_the_gradient_equally_among_ties():
    x = leaf([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, 0.0, 4.0]])
    g = grad_of(x.max(dim=1), x, np.array([6.0, 9.0, 1.0]))
    np.testing.assert_array_equal(g, [[0.0, 3.0, 3.0], [3.0, 3.0, 3.0], [1.0, 0.0, 0.0]])


def test_max_over_everything_shares_between_tied_maxima():
    x = leaf([[4.0, -1.0], [4.0, 2.0]])
    g = grad_of(x.max(), x)
    np.testing.assert_array_equal(g, [[0.5, 0.0], [0.5, 0.0]])


def test_max_with_keepdim_over_a_negative_dim():
    x = leaf([[[1.0, 7.0], [7.0, 2.0]]])  # (1, 2, 2)
    out = x.max(dim=-2, keepdim=True)
    assert out.shape == (1, 1, 2)
    g = grad_of(out, x, np.array([[[2.0, 4.0]]]))
    np.testing.assert_array_equal(g, [[[0.0, 4.0], [2.0, 0.0]]])


@pytest.mark.torch
def test_max_ties_match_torch_amax():
    torch = pytest.importorskip("torch")
    values = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    x = leaf(values)
    grad_of(x.max(dim=-1).sum(), x)
    t = torch.tensor(values, requires_grad=True)
    t.amax(dim=-1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())


# -- var ------------------------------------------------------------------------------


@pytest.mark.parametrize("correction", [0, 1])
def test_var_gradient_is_two_centred_over_n_minus_correction(correction):
    values = np.array([[1.0, 2.0, 4.0, 9.0], [0.0, -1.0, 1.0, 3.0]])
    x = leaf(values)
    out = x.var(dim=1, correction=correction)
    n = values.shape[1]
    centred = values - values.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(out.data, (centred**2).sum(axis=1) / (n - correction), rtol=1e-14)
    g = grad_of(out, x, np.array([1.0, 3.0]))
    expected = np.array([[1.0], [3.0]]) * 2 * centred / (n - correction)
    np.testing.assert_allclose(g, expected, rtol=1e-14)


@pytest.mark.parametrize("correction", [0, 1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_var_passes_gradcheck(correction, keepdim):
    x = leaf(np.random.default_rng(3).standard_normal((3, 4, 2)))
    assert gradcheck(lambda t: t.var(dim=(0, -1), keepdim=keepdim, correction=correction), [x])


# -- where and masked_fill ------------------------------------------------------------


def test_where_routes_the_gradient_to_the_chosen_input():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    b = leaf([10.0, 20.0])  # broadcast over rows
    condition = np.array([[True, False], [False, False]])
    gt.where(condition, a, b).backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(a.grad.data, [[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(b.grad.data, [3.0, 2.0 + 4.0])


def test_where_with_a_python_scalar_branch():
    a = leaf([1.0, -2.0, 3.0])
    out = gt.where(a.data > 0, a, 0.0)
    np.testing.assert_array_equal(out.data, [1.0, 0.0, 3.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 0.0, 1.0])


def test_masked_fill_blocks_the_gradient_of_filled_places():
    x = leaf(np.ones((2, 2, 3)))
    mask = np.array([True, False, True])  # broadcast to every row
    out = x.masked_fill(mask, -1e9)
    assert out.data[0, 0].tolist() == [-1e9, 1.0, -1e9]
    g = grad_of(out, x, np.full((2, 2, 3), 5.0))
    np.testing.assert_array_equal(g, np.broadcast_to([0.0, 5.0, 0.0], (2, 2, 3)))


# -- cat, stack, split ----------------------------------------------------------------


def test_cat_splits_the_gradient_at_the_boundaries():
    a = leaf(np.zeros((2, 1)))
    b = leaf(np.zeros((2, 2)))
    out = gt.cat([a, b], dim=-1)
    g = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    out.backward(g)
    np.testing.assert_array_equal(a.grad.data, [[1.0], [4.0]])
    np.testing.assert_array_equal(b.grad.data, [[2.0, 3.0], [5.0, 6.0]])


def test_stack_gives_each_input_its_slice():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    out = gt.stack([a, b], dim=1)  # (2, 2): rows are (a_i, b_i)
    out.backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(a.grad.data, [1.0, 3.0])
    np.testing.assert_array_equal(b.grad.data, [2.0, 4.0])


def test_split_pieces_send_gradients_to_their_part():
    x = leaf(np.arange(10.0).reshape(2, 5))
    first, second, third = x.split(2, dim=-1)  # sizes 2, 2, 1
    assert [p.shape for p in (first, second, third)] == [(2, 2), (2, 2), (2, 1)]
    (first.sum() * 1 + third.sum() * 3).backward()
    np.testing.assert_array_equal(x.grad.data, [[1, 1, 0, 0, 3], [1, 1, 0, 0, 3]])


def test_split_by_sections_then_cat_back_is_the_identity_for_gradients():
    x = leaf(np.arange(6.0))
    pieces = gt.split(x, [1, 2, 3])
    g = np.arange(1.0, 7.0)
    gt.cat(list(pieces)).backward(g)
    np.testing.assert_array_equal(x.grad.data, g)


# -- pow ------------------------------------------------------------------------------


def test_pow_with_a_tensor_exponent_differentiates_both():
    a = leaf([2.0, 3.0, 0.5])
    b = leaf([3.0, 2.0, -1.0])
    (a**b).sum().backward()
    np.testing.assert_allclose(a.grad.data, b.data * a.data ** (b.data - 1), rtol=1e-14)
    np.testing.assert_allclose(b.grad.data, a.data**b.data * np.log(a.data), rtol=1e-14)
    assert a.grad.data.tolist() == pytest.approx([12.0, 6.0, -4.0])


def test_pow_of_a_scalar_base():
    x = leaf([0.0, 1.0, 2.0])
    (2.0**x).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.log(2.0) * 2.0**x.data, rtol=1e-14)


def test_pow_exponent_gradient_is_zero_where_the_base_is_zero():
    a = leaf([0.0, 2.0])
    b = leaf([2.0, 2.0])
    (a**b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.0, 4.0])
    np.testing.assert_allclose(b.grad.data, [0.0, 4.0 * np.log(2.0)], rtol=1e-14)


# -- astype ---------------------------------------------------------------------------


def test_astype_casts_the_gradient_back_to_the_input_dtype():
    x = leaf([1.5, -2.0], dtype="float32")
    y = x.astype("float64")
    assert y.dtype == np.float64 and y.grad_fn.name() == "AstypeBackward"
    (y * Tensor([2.0, 3.0], dtype="float64")).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 3.0])


def test_double_and_float_are_differentiable_casts():
    x = leaf([1.0, 2.0], dtype="float32")
    (x.double() * 2.0).float().sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


# -- kinks, following PyTorch ---------------------------------------------------------


def test_abs_has_zero_gradient_at_zero():
    x = leaf([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(grad_of(x.abs().sum(), x), [-1.0, 0.0, 1.0])


def test_clip_passes_the_gradient_at_its_bounds():
    x = leaf([-1.0, -0.5, 0.0, 0.5, 1.0])
    g = grad_of(x.clip(min=-0.5, max=0.5).sum(), x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_mean_divides_by_the_number_of_reduced_elements():
    x = leaf(np.zeros((2, 3, 4)))
    g = grad_of(x.mean(dim=(0, 2)), x, np.array([12.0, 24.0, 36.0]))
    np.testing.assert_array_equal(g[:, 0], np.full((2, 4), 1.5))
    np.testing.assert_array_equal(g[:, 2], np.full((2, 4), 4.5))
