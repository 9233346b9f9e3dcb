"""The matmul rule for every rank and broadcast batch dims, as np.matmul defines them."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.autograd import gradcheck
from gradstack.tensor import Tensor

SHAPES = [
    ((4,), (4,)),  # 1-D @ 1-D: a scalar
    ((4,), (4, 3)),  # 1-D @ 2-D
    ((4,), (2, 4, 3)),  # 1-D @ N-D
    ((3, 4), (4,)),  # 2-D @ 1-D
    ((2, 3, 4), (4,)),  # N-D @ 1-D
    ((3, 4), (4, 2)),  # 2-D @ 2-D
    ((2, 3, 4), (4, 2)),  # 3-D batch against a 2-D weight (every Linear layer)
    ((2, 2, 3, 4), (4, 2)),  # 4-D batch against a 2-D weight
    ((3, 4), (2, 4, 5)),  # 2-D against a 3-D batch
    ((2, 3, 4), (2, 4, 2)),  # same batch
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch dims on both sides
    ((1, 3, 4), (2, 4, 2)),  # size-1 batch dim broadcast
    ((2, 3, 4), (1, 4, 2)),
]


def leaves(shape_a, shape_b, seed=0):
    """Two float64 leaves of the given shapes."""
    rng = np.random.default_rng(seed)
    return (
        Tensor(rng.standard_normal(shape_a), dtype="float64", requires_grad=True),
        Tensor(rng.standard_normal(shape_b), dtype="float64", requires_grad=True),
    )


def expected_grads(a: np.ndarray, b: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    """d(sum(g * a @ b)) by the definition, summing over broadcast batch elements."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    out_shape = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    n, k, m = a2.shape[-2], a2.shape[-1], b2.shape[-1]
    g2 = g.reshape(out_shape + (n, m))
    ab = np.broadcast_to(a2, out_shape + (n, k))
    bb = np.broadcast_to(b2, out_shape + (k, m))
    ga = np.einsum("...nm,...km->...nk", g2, bb)
    gb = np.einsum("...nk,...nm->...km", ab, g2)
    ga = ga.reshape((-1,) + a2.shape).sum(0) if a2.ndim < ga.ndim else ga
    gb = gb.reshape((-1,) + b2.shape).sum(0) if b2.ndim < gb.ndim else gb
    ga = ga.sum(axis=tuple(i for i, s in enumerate(a2.shape) if s == 1), keepdims=True)
    gb = gb.sum(axis=tuple(i for i, s in enumerate(b2.shape) if s == 1), keepdims=True)
    return ga.reshape(a.shape), gb.reshape(b.shape)


@pytest.mark.parametrize(("shape_a", "shape_b"), SHAPES, ids=str)
def test_matmul_forward_is_np_matmul(shape_a, shape_b):
    a, b = leaves(shape_a, shape_b)
    out = a @ b
    np.testing.assert_array_equal(out.data, np.matmul(a.data, b.data))
    assert out.grad_fn.name() == "MatmulBackward"


@pytest.mark.parametrize(("shape_a", "shape_b"), SHAPES, ids=str)
def test_matmul_gradients_by_value(shape_a, shape_b):
    a, b = leaves(shape_a, shape_b)
    out = a @ b
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(g)
    ga, gb = expected_grads(a.data, b.data, g)
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    np.testing.assert_allclose(a.grad.data, ga, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.data, gb, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("shape_a", "shape_b"), SHAPES, ids=str)
def test_matmul_passes_gradcheck(shape_a, shape_b):
    a, b = leaves(shape_a, shape_b, seed=2)
    assert gradcheck(lambda x, y: x @ y, [a, b])


@pytest.mark.parametrize(("shape_a", "shape_b"), [((2, 3, 4), (4, 2)), ((4,), (2, 4, 3))], ids=str)
def test_matmul_with_only_one_input_requiring_grad(shape_a, shape_b):
    a, b = leaves(shape_a, shape_b)
    constant = Tensor(b.data, dtype="float64")
    (a @ constant).sum().backward()
    ga, _ = expected_grads(a.data, b.data, np.ones(np.matmul(a.data, b.data).shape))
    np.testing.assert_allclose(a.grad.data, ga, rtol=1e-12)
    weight = Tensor(a.data, dtype="float64")
    (weight @ b).sum().backward()
    _, gb = expected_grads(a.data, b.data, np.ones(np.matmul(a.data, b.data).shape))
    np.testing.assert_allclose(b.grad.data, gb, rtol=1e-12)


def test_matmul_of_a_transposed_view_against_a_weight():
    a, w = leaves((2, 4, 3), (4, 5))
    out = a.transpose(-2, -1) @ w  # (2, 3, 4) @ (4, 5), a non-contiguous batch
    g = np.random.default_rng(4).standard_normal(out.shape)
    out.backward(g)
    np.testing.assert_allclose(
        a.grad.data, np.swapaxes(g @ w.data.T, -1, -2), rtol=1e-12, atol=1e-12
    )
    rows = np.swapaxes(a.data, -1, -2).reshape(-1, 4)
    np.testing.assert_allclose(w.grad.data, rows.T @ g.reshape(-1, 5), rtol=1e-12, atol=1e-12)


def test_float32_matmul_gradients_stay_float32():
    a = Tensor(np.ones((2, 3, 4)), requires_grad=True)
    w = Tensor(np.ones((4, 5)), requires_grad=True)
    (a @ w).sum().backward()
    assert a.grad.dtype == np.float32 and w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.data, np.full((4, 5), 6.0, dtype=np.float32))


@pytest.mark.parametrize(
    ("shape_a", "shape_b", "message"),
    [
        ((2, 3), (4, 5), r"matmul: \(2, 3\) @ \(4, 5\): inner dimensions 3 and 4 differ"),
        ((2, 3, 4), (3, 4, 2), r"batch dimensions \(2,\) and \(3,\) cannot be broadcast"),
        ((), (3,), r"need at least 1 dim"),
    ],
)
def test_matmul_errors_name_the_shapes(shape_a, shape_b, message):
    a = Tensor(np.ones(shape_a), requires_grad=True)
    with pytest.raises(ValueError, match=message):
        a @ Tensor(np.ones(shape_b))


@pytest.mark.torch
@pytest.mark.parametrize(("shape_a", "shape_b"), SHAPES, ids=str)
def test_matmul_matches_torch(shape_a, shape_b):
    torch = pytest.importorskip("torch")
    a, b = leaves(shape_a, shape_b)
    ta = torch.tensor(a.data, requires_grad=True)
    tb = torch.tensor(b.data, requires_grad=True)
    out = a @ b
    expected = ta @ tb
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(5).standard_normal(out.shape)
    out.backward(g)
    expected.backward(torch.from_numpy(g))
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-12, atol=1e-12)
