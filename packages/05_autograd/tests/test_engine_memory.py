"""In-place accumulation is safe: no two gradients ever share memory.

The engine adds contributions into its buffers in place; a rule may hand the same
array to several inputs (``add`` passes ``g`` to both), so each destination must
own what it stores. Every test here would fail if a buffer were shared: a later
in-place ``+=`` into one gradient would silently change the other.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradstack.autograd as autograd
from gradstack.tensor import Tensor, cat, stack


def leaf(values) -> Tensor:
    """A float64 leaf that requires grad."""
    return Tensor(values, dtype="float64", requires_grad=True)


def test_add_gives_each_input_its_own_gradient_over_two_backward_calls():
    a = leaf([1.0, 2.0, 3.0])
    b = leaf([4.0, 5.0, 6.0])
    (a + b).sum().backward()
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad.data, b.grad.data)
    np.testing.assert_array_equal(a.grad.data, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(b.grad.data, [2.0, 2.0, 2.0])


def test_updating_one_gradient_leaves_the_other_alone():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    (a + b).backward(np.array([1.0, 1.0]))
    a.grad.data *= 10  # what an optimizer or clipping does
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


def test_x_plus_x_counts_both_uses():
    x = leaf([1.0, 2.0])
    (x + x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    (x + x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 4.0])


def test_x_plus_x_transposed_adds_the_transposed_gradient():
    x = leaf(np.arange(6.0).reshape(2, 3))
    weights = np.arange(6.0).reshape(2, 3)  # for x.T: shape (3, 2)
    out = x.T + x.T
    (out * Tensor(weights.T, dtype="float64")).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * weights)
    y = leaf(np.arange(4.0).reshape(2, 2))
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    ((y + y.T) * Tensor(w, dtype="float64")).sum().backward()
    np.testing.assert_array_equal(y.grad.data, w + w.T)
    assert not np.shares_memory(y.grad.data, w)


def test_a_non_leaf_added_to_itself_accumulates_correctly():
    x = leaf([1.0, 2.0])
    h = x * 3
    ((h + h) * h).sum().backward()  # d/dh (2h²) = 4h, dh/dx = 3
    np.testing.assert_array_equal(x.grad.data, 4 * 3 * x.data * 3)


def test_stacked_copies_of_one_tensor_receive_separate_slices():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    s = stack([a, b, a])
    (s * Tensor(np.arange(6.0).reshape(3, 2), dtype="float64")).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.0 + 4.0, 1.0 + 5.0])
    np.testing.assert_array_equal(b.grad.data, [2.0, 3.0])
    assert not np.shares_memory(a.grad.data, b.grad.data)


def test_cat_pieces_do_not_share_memory_between_inputs():
    a = leaf([1.0, 2.0])
    b = leaf([3.0])
    cat([a, b, a]).backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(a.grad.data, [1.0 + 4.0, 2.0 + 5.0])
    np.testing.assert_array_equal(b.grad.data, [3.0])
    a.grad.data[:] = 0.0
    np.testing.assert_array_equal(b.grad.data, [3.0])


@pytest.mark.parametrize(
    "build",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: (a + b) + (a + b),
        lambda a, b: a.expand(3, 2) + b,
        lambda a, b: stack([a + b, b]).sum(0),
        lambda a, b: cat([a, b]).reshape(2, 2).sum(0),
    ],
    ids=["add", "sub", "add-twice", "expand", "stack", "cat-reshape"],
)
def test_no_two_leaf_gradients_share_memory(build):
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    for _ in range(2):
        out = build(a, b)
        out.backward(np.ones(out.shape))
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert a.grad.data.flags.writeable
    assert b.grad.data.flags.writeable


def test_gradients_share_no_memory_with_data_or_saved_arrays():
    x = leaf([0.5, 1.0])
    e = x.exp()
    e.backward(np.ones(2))
    assert not np.shares_memory(x.grad.data, x.data)
    assert not np.shares_memory(x.grad.data, e.data)


def test_autograd_grad_results_are_private_arrays():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    ga, gb = autograd.grad((a + b).sum(), [a, b])
    assert not np.shares_memory(ga.data, gb.data)
    ga.data[:] = 0
    np.testing.assert_array_equal(gb.data, [1.0, 1.0])


def test_the_graph_memory_is_dropped_after_backward():
    x = leaf(np.ones((4, 4)))
    e = x.exp()  # saves its output
    out = (e * 2).sum()
    node = e.grad_fn
    assert node.saved is not None
    out.backward()
    assert node.saved is None
    assert node.inputs == ()
