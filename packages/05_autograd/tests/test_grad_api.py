"""autograd.grad, and the grad-mode switches re-exported from gradstack.tensor."""

from __future__ import annotations

import numpy as np
import pytest

import gradstack.autograd as autograd
import gradstack.tensor as gt
from gradstack.tensor import Tensor


def leaf(values) -> Tensor:
    """A float64 leaf that requires grad."""
    return Tensor(values, dtype="float64", requires_grad=True)


def test_grad_returns_gradients_and_leaves_dot_grad_alone():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([0.5, -1.0, 2.0])
    gx, gw = autograd.grad((x * w).sum(), [x, w])
    np.testing.assert_array_equal(gx.data, w.data)
    np.testing.assert_array_equal(gw.data, x.data)
    assert gx.dtype == np.float64
    assert x.grad is None
    assert w.grad is None


def test_grad_of_a_single_input_is_a_one_tuple():
    x = leaf([3.0])
    (gx,) = autograd.grad((x * x).sum(), x)
    assert gx.data.tolist() == [6.0]


def test_grad_with_respect_to_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3
    out = (h * h).sum()
    gh, gx = autograd.grad(out, [h, x])
    np.testing.assert_array_equal(gh.data, 2 * h.data)
    np.testing.assert_array_equal(gx.data, 2 * h.data * 3)


def test_grad_with_grad_outputs():
    x = leaf([1.0, 2.0])
    (gx,) = autograd.grad(x * x, x, grad_outputs=np.array([1.0, -1.0]))
    np.testing.assert_array_equal(gx.data, [2.0, -4.0])


def test_grad_of_the_same_input_twice_fills_both_slots():
    x = leaf([1.0, 2.0])
    g1, g2 = autograd.grad((x * x).sum(), [x, x])
    np.testing.assert_array_equal(g1.data, [2.0, 4.0])
    np.testing.assert_array_equal(g2.data, [2.0, 4.0])
    assert not np.shares_memory(g1.data, g2.data)


def test_grad_of_an_unused_input_is_an_error_unless_allowed():
    x = leaf([1.0])
    unused = leaf([2.0])
    with pytest.raises(RuntimeError, match=r"input 1 .*not used.*allow_unused=True"):
        autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.data.tolist() == [2.0]
    assert gu is None


def test_grad_needs_inputs_that_require_grad():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match=r"input 0 does not require grad"):
        autograd.grad((x * 2).sum(), [Tensor([1.0])])


def test_grad_releases_the_graph_unless_asked_to_retain_it():
    x = leaf([1.0, 2.0])
    out = (x.exp()).sum()
    (first,) = autograd.grad(out, x, retain_graph=True)
    (second,) = autograd.grad(out, x)
    np.testing.assert_array_equal(first.data, second.data)
    with pytest.raises(RuntimeError, match=r"second time"):
        autograd.grad(out, x)


def test_grad_mode_switches_are_re_exported_from_the_tensor_package():
    assert autograd.no_grad is gt.no_grad
    assert autograd.enable_grad is gt.enable_grad
    assert autograd.is_grad_enabled is gt.is_grad_enabled
    assert autograd.set_grad_enabled is gt.set_grad_enabled


def test_no_grad_records_nothing_and_enable_grad_turns_it_back_on():
    x = leaf([1.0, 2.0])
    with autograd.no_grad():
        assert not autograd.is_grad_enabled()
        y = x * 2
        with autograd.enable_grad():
            assert autograd.is_grad_enabled()
            z = x * 3
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()
    assert y.grad_fn is None
    assert not y.requires_grad
    assert z.grad_fn is not None
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_no_grad_as_a_decorator():
    x = leaf([1.0])

    @autograd.no_grad()
    def step(t: Tensor) -> Tensor:
        return t * 2

    assert step(x).grad_fn is None
    assert autograd.is_grad_enabled()
    assert (x * 2).grad_fn is not None


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError), autograd.no_grad():
        _ = 1 / 0
    assert autograd.is_grad_enabled()


def test_a_backward_pass_inside_no_grad_still_computes_gradients():
    x = leaf([1.0, 2.0])
    out = (x * x).sum()
    with autograd.no_grad():
        out.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_parameter_update_under_no_grad_keeps_the_leaf_a_leaf():
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    with autograd.no_grad():
        w.data -= 0.1 * w.grad.data
    assert w.is_leaf
    assert w.requires_grad
    np.testing.assert_allclose(w.data, [0.8, 1.6], rtol=1e-15)
