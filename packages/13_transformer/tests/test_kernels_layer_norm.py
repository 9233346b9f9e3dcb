"""The layer-norm kernel equals the reference: forward values and every input's gradient.

Each case runs ``layer_norm`` on the same inputs and upstream gradient with the kernel
(the default) and inside ``use_references()``, and compares. Tolerances: float64 to
1e-12, float32 to 2e-6 relative to the size of the values (the two compute the same
formulas with different orders of additions).
"""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.autograd import grad
from gradstack.tensor import OPS, Tensor, kernels_enabled, use_references
from gradstack.transformer import LayerNorm, layer_norm
from gradstack.transformer.kernels.layer_norm import layer_norm_kernel

TOLERANCE = {np.float32: 2e-6, np.float64: 1e-12}
DTYPES = [np.float32, np.float64]


@pytest.fixture(autouse=True)
def kernels_on() -> None:
    """These tests compare the kernel with the reference: both must be able to run."""
    if not kernels_enabled():
        pytest.skip("GRADSTACK_KERNELS=0 for this run: the kernel is switched off")


def test_the_kernel_is_registered_for_the_op():
    kernel = OPS["layer_norm"].kernel
    assert kernel is not None and kernel.forward is layer_norm_kernel


def run(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, shape, upstream, needs):
    """layer_norm's output and the gradients of the inputs that require grad."""
    tensors = [
        Tensor(a, dtype=a.dtype, requires_grad=need) for a, need in zip((x, gamma, beta), needs)
    ]
    out = layer_norm(tensors[0], shape, tensors[1], tensors[2])
    wanted = [t for t in tensors if t.requires_grad]
    return out, [g.data for g in grad(out, wanted, grad_outputs=upstream)]


def assert_kernel_equals_reference(x, gamma, beta, shape, needs=(True, True, True)) -> None:
    """Kernel and reference agree on the output and on every gradient asked for."""
    dtype = x.dtype.type
    upstream = np.random.default_rng(7).standard_normal(x.shape).astype(dtype)
    ours, our_grads = run(x, gamma, beta, shape, upstream, needs)
    with use_references():
        theirs, their_grads = run(x, gamma, beta, shape, upstream, needs)
    assert ours.grad_fn.kernel is not None and theirs.grad_fn.kernel is None
    tolerance = TOLERANCE[dtype]
    assert ours.dtype == theirs.dtype == dtype
    np.testing.assert_allclose(ours.data, theirs.data, rtol=tolerance, atol=tolerance * 10)
    assert len(our_grads) == len(their_grads) == sum(needs)
    for a, b in zip(our_grads, their_grads):
        assert a.shape == b.shape and a.dtype == dtype
        scale = max(1.0, float(np.abs(b).max()))
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance * scale)


def inputs(x_shape, shape, dtype, seed=0):
    """x (x_shape), gamma and beta (shape), with an offset mean and a spread like activations."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(x_shape) * 3 + 1).astype(dtype)
    gamma = rng.standard_normal(shape).astype(dtype)
    beta = rng.standard_normal(shape).astype(dtype)
    return x, gamma, beta


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("x_shape", "shape"),
    [
        ((4, 6), (6,)),
        ((2, 3, 5), (5,)),
        ((2, 3, 5), (3, 5)),
        ((7,), (7,)),
        ((16, 32, 64), (64,)),
        ((3, 170, 300), (300,)),  # 510 rows: three row blocks, the last one short
    ],
)
def test_shapes(dtype, x_shape, shape):
    assert_kernel_equals_reference(*inputs(x_shape, shape, dtype), shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "needs", [(True, False, False), (False, True, False), (False, False, True), (False, True, True)]
)
def test_only_some_inputs_require_grad(dtype, needs):
    assert_kernel_equals_reference(*inputs((3, 4, 8), (8,), dtype), (8,), needs)
    assert_kernel_equals_reference(*inputs((510, 300), (300,), dtype), (300,), needs)  # blocks


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_input(dtype):
    x, gamma, beta = inputs((6, 5, 8), (8,), dtype)
    strided = np.swapaxes(x, 0, 1)  # (5, 6, 8), not C-contiguous
    assert not strided.flags.c_contiguous
    assert_kernel_equals_reference(strided, gamma, beta, (8,))
    assert_kernel_equals_reference(x[:, ::2], gamma, beta, (8,))


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_and_constant_rows(dtype):
    x, gamma, beta = inputs((4, 16), (16,), dtype)
    x[0] = 5.0  # a constant row: variance 0, xhat 0
    x[1] *= 1e3
    assert_kernel_equals_reference(x, gamma, beta, (16,))


def test_the_module_uses_the_op_both_ways():
    layer = LayerNorm(8)
    x = np.random.default_rng(3).standard_normal((2, 5, 8)).astype(np.float32)
    ours = layer(Tensor(x))
    with use_references():
        theirs = layer(Tensor(x))
    np.testing.assert_allclose(ours.data, theirs.data, rtol=2e-6, atol=2e-5)
