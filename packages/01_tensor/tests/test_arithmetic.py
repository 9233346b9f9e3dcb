"""Binary arithmetic, unary minus and matmul: values against NumPy, broadcasting, reflection."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays, mutually_broadcastable_shapes

from gradstack.tensor import Tensor

RNG = np.random.default_rng(0)

BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
}


def rand(*shape: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """float32 data in [low, high)."""
    return RNG.uniform(low, high, size=shape).astype(np.float32)


def positive(*shape: int) -> np.ndarray:
    """float32 data safely away from zero (divisors, bases of powers)."""
    return rand(*shape, low=0.5, high=2.0)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((), (2, 3)), ((5, 1, 3), (4, 1))],
)
def test_binary_ops_match_numpy_with_broadcasting(name, shape_a, shape_b):
    a, b = rand(*shape_a), positive(*shape_b)
    out = BINARY[name](Tensor(a), Tensor(b))
    expected = BINARY[name](a, b)
    assert out.shape == expected.shape
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)


def test_pow_matches_numpy_for_tensor_and_scalar_exponents():
    a, b = positive(3, 4), rand(4)
    np.testing.assert_allclose((Tensor(a) ** Tensor(b)).data, a**b, rtol=1e-6)
    np.testing.assert_allclose((Tensor(a) ** 2).data, a**2, rtol=1e-6)
    np.testing.assert_allclose((Tensor(a) ** 0.5).data, np.sqrt(a), rtol=1e-6)
    np.testing.assert_allclose((2.0 ** Tensor(b)).data, 2.0**b, rtol=1e-6)


def test_unary_minus():
    a = rand(2, 3)
    np.testing.assert_array_equal((-Tensor(a)).data, -a)
    np.testing.assert_array_equal((-Tensor([1, -2])).data, [-1, 2])


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (lambda t: t + 1, [2.0, 3.0, 5.0]),
        (lambda t: 1 + t, [2.0, 3.0, 5.0]),
        (lambda t: t - 1.5, [-0.5, 0.5, 2.5]),
        (lambda t: 1.5 - t, [0.5, -0.5, -2.5]),
        (lambda t: t * 3, [3.0, 6.0, 12.0]),
        (lambda t: 3 * t, [3.0, 6.0, 12.0]),
        (lambda t: t / 2, [0.5, 1.0, 2.0]),
        (lambda t: 8 / t, [8.0, 4.0, 2.0]),
        (lambda t: t**2, [1.0, 4.0, 16.0]),
        (lambda t: 2**t, [2.0, 4.0, 16.0]),
        (lambda t: np.float64(2.0) * t, [2.0, 4.0, 8.0]),
        (lambda t: t + np.float32(1.0), [2.0, 3.0, 5.0]),
        (lambda t: True + t, [2.0, 3.0, 5.0]),
    ],
)
def test_reflected_and_scalar_operands(expression, expected):
    out = expression(Tensor([1.0, 2.0, 4.0]))
    assert isinstance(out, Tensor)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_ndarray_on_either_side_returns_a_tensor(name):
    a, b = rand(2, 3), positive(3)
    left = BINARY[name](a, Tensor(b))
    right = BINARY[name](Tensor(a), b)
    assert isinstance(left, Tensor) and isinstance(right, Tensor)
    np.testing.assert_allclose(left.data, BINARY[name](a, b), rtol=1e-6)
    np.testing.assert_allclose(right.data, BINARY[name](a, b), rtol=1e-6)


def test_ndarray_matmul_and_pow_on_the_left_return_tensors():
    a, b = rand(2, 3), rand(3, 4)
    out = a @ Tensor(b)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-5)
    power = positive(3) ** Tensor([1.0, 2.0, 3.0])
    assert isinstance(power, Tensor)


def test_unsupported_operand_types_raise_type_error():
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError):
        t + "a"
    with pytest.raises(TypeError):
        [1.0, 2.0] * t
    with pytest.raises(TypeError):
        t @ None


# -- matmul ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [
        ((3, 4), (4, 5)),
        ((2, 4, 8), (2, 8, 4)),
        ((2, 3, 4, 5), (2, 3, 5, 6)),
        ((2, 1, 4, 5), (3, 5, 2)),
        ((6, 4, 5), (5, 3)),
        ((5, 3), (6, 3, 2)),
        ((4,), (4,)),
        ((4,), (4, 3)),
        ((3, 4), (4,)),
        ((4,), (2, 4, 3)),
        ((2, 3, 4), (4,)),
        ((1, 4), (4, 1)),
    ],
)
def test_matmul_is_np_matmul_for_every_rank(shape_a, shape_b):
    a, b = rand(*shape_a), rand(*shape_b)
    out = Tensor(a) @ Tensor(b)
    expected = np.matmul(a, b)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(Tensor(a).matmul(Tensor(b)).data, expected, rtol=1e-5, atol=1e-6)


def test_batched_matmul_is_not_np_dot():
    """The old bug: np.dot on (2,4,8)@(2,8,4) gives (2,4,2,4); matmul pairs the batches."""
    a, b = rand(2, 4, 8), rand(2, 8, 4)
    out = Tensor(a) @ Tensor(b)
    assert out.shape == (2, 4, 4)
    for i in range(2):
        np.testing.assert_allclose(out.data[i], a[i] @ b[i], rtol=1e-5, atol=1e-6)


def test_vector_dot_vector_is_a_scalar():
    out = Tensor([1.0, 2.0, 3.0]) @ Tensor([4.0, 5.0, 6.0])
    assert out.shape == ()
    assert out.item() == 32.0


# -- hypothesis: broadcasting exactly like NumPy ---------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
    name=st.sampled_from(sorted(BINARY)),
)
def test_binary_broadcasting_matches_numpy(shapes, name):
    shape_a, shape_b = shapes.input_shapes
    a, b = rand(*shape_a), positive(*shape_b)
    out = BINARY[name](Tensor(a), Tensor(b))
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.data, BINARY[name](a, b), rtol=1e-6)


@settings(max_examples=60, deadline=None)
@given(shapes=mutually_broadcastable_shapes(signature="(m,n),(n,p)->(m,p)", max_dims=3, max_side=4))
def test_matmul_batch_broadcasting_matches_numpy(shapes):
    shape_a, shape_b = shapes.input_shapes
    a, b = rand(*shape_a), rand(*shape_b)
    out = Tensor(a) @ Tensor(b)
    expected = np.matmul(a, b)
    assert out.shape == expected.shape == shapes.result_shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    a=arrays(
        np.float32,
        st.tuples(st.integers(1, 4), st.integers(1, 4)),
        elements=st.floats(-100, 100, width=32),
    ),
    scalar=st.floats(-10, 10, width=32),
)
def test_python_scalars_never_upcast(a, scalar):
    t = Tensor(a)
    for out in (t + scalar, scalar * t, t - scalar, scalar - t):
        assert out.dtype == np.float32
