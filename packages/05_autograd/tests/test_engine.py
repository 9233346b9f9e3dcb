"""The backward engine: order, accumulation, broadcasting, release, grad_tensors."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradstack.autograd as autograd
from gradstack.autograd import sum_to_shape, topological_order
from gradstack.tensor import Tensor


def leaf(values, dtype="float64") -> Tensor:
    """A float64 leaf that requires grad."""
    return Tensor(values, dtype=dtype, requires_grad=True)


# -- topological order ----------------------------------------------------------------


def test_topological_order_puts_every_node_before_its_inputs():
    x = leaf([1.0, 2.0])
    a = x * 2
    b = a + x
    c = a * b
    order = topological_order([c.grad_fn])
    names = [node.name() for node in order]
    assert names == ["MulBackward", "AddBackward", "MulBackward"]
    position = {id(node): i for i, node in enumerate(order)}
    for node in order:
        for tensor in node.inputs:
            if tensor.grad_fn is not None:
                assert position[id(node)] < position[id(tensor.grad_fn)]


def test_topological_order_visits_a_shared_node_once():
    x = leaf([1.0])
    shared = x * 3
    out = shared + shared * shared
    order = topological_order([out.grad_fn])
    assert sum(node is shared.grad_fn for node in order) == 1
    assert len(order) == 3


def test_a_chain_of_20000_ops_needs_no_recursion():
    x = leaf([1.0, -2.0])
    y = x
    for _ in range(20_000):
        y = y * 0.9999
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)  # a recursive walk of 20,000 nodes would fail at once
    try:
        y.sum().backward()
    finally:
        sys.setrecursionlimit(limit)
    np.testing.assert_allclose(x.grad.data, [0.9999**20_000] * 2, rtol=1e-9)


def test_a_20000_op_chain_kept_with_retain_graph_is_freed_without_error():
    x = leaf([1.0])
    y = x
    for _ in range(20_000):
        y = y + 1.0
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.data.tolist() == [2.0]
    del y  # dropping the last reference must not overflow the C stack


# -- accumulation ---------------------------------------------------------------------


def test_a_node_used_twice_receives_the_sum_of_both_gradients():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2  # dz/dy = 2y + 1, dy/dx = 2
    z = (y * y + y).sum()
    z.backward()
    np.testing.assert_array_equal(x.grad.data, 2 * (2 * (2 * x.data) + 1))


def test_diamond_graph_accumulates_through_both_paths():
    x = leaf([0.5, -1.5])
    a = x.exp()
    b = x.tanh()
    out = (a * b).sum()
    out.backward()
    expected = np.exp(x.data) * np.tanh(x.data) + np.exp(x.data) * (1 - np.tanh(x.data) ** 2)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_leaf_gradients_accumulate_across_backward_calls_until_zeroed():
    w = leaf([1.0, 2.0])
    for _ in range(3):
        (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, 3 * 2 * w.data)
    w.grad = None
    (w * 5).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [5.0, 5.0])


def test_non_leaf_tensors_keep_no_gradient():
    x = leaf([1.0, 2.0])
    hidden = x * 3
    out = (hidden * hidden).sum()
    out.backward()
    assert hidden.grad is None
    assert out.grad is None
    np.testing.assert_array_equal(x.grad.data, 18 * x.data)


def test_gradient_dtype_follows_the_leaf():
    w = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    scale = Tensor(np.full(3, 2.0))  # float32 by default
    (w.astype("float64") * scale.astype("float64")).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.data, [2.0, 2.0, 2.0])


def test_only_leaves_that_require_grad_get_a_gradient():
    x = leaf([1.0, 2.0])
    c = Tensor(np.array([3.0, 4.0]))
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


# -- broadcasting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grad_shape", "shape", "axes"),
    [
        ((2, 3, 4), (2, 3, 4), ()),
        ((2, 3, 4), (3, 4), (0,)),
        ((2, 3, 4), (3, 1), (0, 2)),
        ((2, 3, 4), (1, 3, 1), (0, 2)),
        ((2, 3, 4), (), (0, 1, 2)),
        ((5, 1, 4), (1, 1, 4), (0,)),
    ],
)
def test_sum_to_shape_sums_the_broadcast_dims(grad_shape, shape, axes):
    grad = np.arange(np.prod(grad_shape), dtype=np.float64).reshape(grad_shape)
    reduced = sum_to_shape(grad, shape)
    expected = grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad
    assert reduced.shape == shape
    np.testing.assert_array_equal(reduced, expected)


def test_sum_to_shape_returns_the_gradient_itself_when_shapes_match():
    grad = np.ones((2, 3))
    assert sum_to_shape(grad, (2, 3)) is grad


@pytest.mark.parametrize(("grad_shape", "shape"), [((3,), (2, 3)), ((2, 3), (2, 4))])
def test_sum_to_shape_rejects_a_gradient_that_cannot_come_from_broadcasting(grad_shape, shape):
    with pytest.raises(RuntimeError, match=r"backward: gradient of shape"):
        sum_to_shape(np.ones(grad_shape), shape)


def test_the_engine_reduces_broadcast_gradients_for_every_input():
    a = leaf(np.ones((2, 1, 4)))
    b = leaf(np.arange(3.0).reshape(3, 1))
    c = leaf(2.0)
    ((a + b) * c).sum().backward()  # (2, 3, 4)
    np.testing.assert_array_equal(a.grad.data, np.full((2, 1, 4), 3 * 2.0))
    np.testing.assert_array_equal(b.grad.data, np.full((3, 1), 2 * 4 * 2.0))
    assert c.grad.shape == ()
    assert c.grad.item() == (a.data + b.data).sum()


# -- graph release --------------------------------------------------------------------


def test_backward_releases_the_graph():
    x = leaf([1.0, 2.0])
    e = x.exp()
    out = e.sum()
    out.backward()
    for node in (e.grad_fn, out.grad_fn):
        assert node.released
        assert node.saved is None
        assert node.inputs == ()


def test_a_second_backward_through_a_released_graph_says_what_to_do():
    x = leaf([1.0, 2.0])
    out = (x.exp() * 2).sum()
    out.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        out.backward()


def test_a_new_graph_built_on_a_released_part_fails_clearly():
    x = leaf([1.0, 2.0])
    hidden = x * 2
    hidden.sum().backward()
    with pytest.raises(RuntimeError, match=r"MulBackward was already used"):
        (hidden * 3).sum().backward()


def test_retain_graph_keeps_the_graph_for_another_backward():
    x = leaf([1.0, 2.0])
    out = (x.exp() * 2).sum()
    out.backward(retain_graph=True)
    assert not out.grad_fn.released
    out.backward()
    np.testing.assert_allclose(x.grad.data, 2 * 2 * np.exp(x.data), rtol=1e-12)
    assert out.grad_fn.released


# -- seeds and grad_tensors -----------------------------------------------------------


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"one-element output, got shape \(2,\)"):
        (x * 2).backward()


def test_backward_with_an_explicit_gradient():
    x = leaf([1.0, 2.0])
    (x * x).backward(np.array([10.0, 100.0]))
    np.testing.assert_array_equal(x.grad.data, [20.0, 400.0])


def test_backward_rejects_a_gradient_of_the_wrong_shape():
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\) does not match.*\(2,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_of_a_tensor_without_grad_says_what_to_do():
    with pytest.raises(RuntimeError, match=r"does not require grad.*requires_grad=True"):
        Tensor(np.ones(2)).sum().backward()


def test_backward_of_several_outputs_with_grad_tensors():
    x = leaf([1.0, 2.0, 3.0])
    y1 = x * 2
    y2 = (x * x).sum()
    autograd.backward([y1, y2], grad_tensors=[np.array([1.0, 0.0, -1.0]), 3.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 0.0, -2.0] + 3 * 2 * x.data)


def test_backward_of_an_output_that_feeds_another_output():
    x = leaf([1.0, 2.0])
    y = x * 3
    z = (y * y).sum()
    autograd.backward([y, z], grad_tensors=[np.ones(2), None])
    np.testing.assert_array_equal(x.grad.data, 3 * np.ones(2) + 3 * 2 * y.data)


def test_grad_tensors_may_be_tensors():
    x = leaf([1.0, 2.0])
    autograd.backward(x * 3, grad_tensors=Tensor([2.0, -1.0], dtype="float64"))
    np.testing.assert_array_equal(x.grad.data, [6.0, -3.0])


def test_backward_counts_grad_tensors():
    x = leaf([1.0])
    with pytest.raises(ValueError, match=r"2 tensors but 1 grad_tensors"):
        autograd.backward([x * 2, x * 3], grad_tensors=[np.ones(1)])


def test_backward_of_a_leaf_sets_its_gradient_to_a_copy_of_the_seed():
    x = leaf([1.0, 2.0])
    seed = np.array([5.0, 6.0])
    x.backward(seed)
    seed[:] = 0.0
    np.testing.assert_array_equal(x.grad.data, [5.0, 6.0])


def test_tensor_backward_is_the_engine():
    x = leaf([2.0])
    (x * x).sum().backward()
    y = leaf([2.0])
    autograd.backward((y * y).sum())
    np.testing.assert_array_equal(x.grad.data, y.grad.data)
    assert x.grad.data.tolist() == [4.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_leaf_gradient_keeps_the_leaf_dtype_and_full_precision(dtype):
    x = leaf([1.0, 2.0], dtype=dtype)
    (x * (1.0 + 1e-12)).sum().backward()
    assert x.grad.dtype == np.dtype(dtype)
    expected = np.asarray(1.0 + 1e-12, dtype=dtype)
    np.testing.assert_array_equal(x.grad.data, [expected, expected])


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_broadcast_gradients_are_summed_over_the_broadcast_dims(data):
    full = data.draw(st.lists(st.integers(1, 4), min_size=0, max_size=4), label="full")
    drop = data.draw(st.integers(0, len(full)), label="leading dims dropped")
    ones = data.draw(st.lists(st.booleans(), min_size=len(full), max_size=len(full)))
    small = tuple(1 if one else size for size, one in zip(full[drop:], ones[drop:]))
    a = leaf(np.arange(float(np.prod(full))).reshape(full) / 7)
    b = leaf(np.full(small, 0.5))
    weights = np.random.default_rng(len(full)).standard_normal(tuple(full))
    (a * b).backward(weights)
    assert b.grad.shape == small
    reduce_axes = tuple(range(drop)) + tuple(
        drop + i for i, s in enumerate(small) if s == 1 and full[drop + i] != 1
    )
    by_hand = (weights * a.data).sum(axis=reduce_axes).reshape(small)
    np.testing.assert_allclose(b.grad.data, by_hand, rtol=1e-12)
    np.testing.assert_allclose(a.grad.data, weights * 0.5, rtol=1e-15)
