"""The attention kernel equals the reference: forward values and every input's gradient.

Each case runs ``scaled_dot_product_attention`` twice on the same inputs and upstream
gradient, once as usual (the kernel) and once inside ``use_references()``, with the same
seed for dropout, and compares. Tolerances: float64 to 1e-12 (the two differ only in the
order of additions), float32 to a few units of its 1e-7 rounding, relative to the size
of the values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gradstack.attention import MultiHeadAttention, scaled_dot_product_attention
from gradstack.attention.kernels import attention_forward_kernel, causal_blocks
from gradstack.autograd import grad
from gradstack.tensor import OPS, Tensor, kernels_enabled, manual_seed, use_references

TOLERANCE = {np.float32: 2e-6, np.float64: 1e-12}


@pytest.fixture(autouse=True)
def kernels_on() -> None:
    """These tests compare the kernel with the reference: both must be able to run."""
    if not kernels_enabled():
        pytest.skip("GRADSTACK_KERNELS=0 for this run: the kernel is switched off")


def test_the_kernel_is_registered_for_the_op():
    kernel = OPS["scaled_dot_product_attention"].kernel
    assert kernel is not None and kernel.forward is attention_forward_kernel


def run(fn: Callable[..., Tensor], arrays: list[np.ndarray], upstream: np.ndarray, seed: int):
    """fn's output and the gradients of every input, after manual_seed(seed)."""
    inputs = [Tensor(a, dtype=a.dtype, requires_grad=True) for a in arrays]
    manual_seed(seed)
    out = fn(*inputs)
    grads = grad(out, inputs, grad_outputs=upstream)
    return out, [g.data for g in grads]


def assert_kernel_equals_reference(
    fn: Callable[..., Tensor], arrays: list[np.ndarray], looser: float = 1.0
) -> None:
    """Forward and gradients of the kernel and of the reference agree (same seed).

    ``looser`` widens the tolerance where the inputs make rounding errors larger.
    """
    dtype = arrays[0].dtype.type
    with use_references():
        probe = fn(*[Tensor(a, dtype=a.dtype) for a in arrays])
    upstream = np.random.default_rng(9).standard_normal(probe.shape).astype(dtype)
    kernel_out, kernel_grads = run(fn, arrays, upstream, seed=5)
    with use_references():
        reference_out, reference_grads = run(fn, arrays, upstream, seed=5)
    if kernel_out.grad_fn.op.name == "scaled_dot_product_attention":
        assert kernel_out.grad_fn.kernel is not None  # the kernel really ran
        assert reference_out.grad_fn.kernel is None
    assert kernel_out.dtype == reference_out.dtype == dtype
    tolerance = TOLERANCE[dtype] * looser
    scale = max(1.0, float(np.abs(reference_out.data).max()))
    np.testing.assert_allclose(kernel_out.data, reference_out.data, atol=tolerance * scale)
    for ours, theirs, array in zip(kernel_grads, reference_grads, arrays):
        assert ours.shape == theirs.shape == array.shape and ours.dtype == dtype
        scale = max(1.0, float(np.abs(theirs).max()))
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance * scale)


def make(batch, q_len, k_len, dtype, d=8, dv=6, k_batch=None, seed=0) -> list[np.ndarray]:
    """Random q (*batch, Lq, d), k (*k_batch, Lk, d), v (*k_batch, Lk, dv)."""
    rng = np.random.default_rng(seed)
    kb = batch if k_batch is None else k_batch
    shapes = [batch + (q_len, d), kb + (k_len, d), kb + (k_len, dv)]
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]


DTYPES = [np.float32, np.float64]
MASKS = {
    "none": {},
    "causal": {"is_causal": True},
    "bool mask": {"mask": np.random.default_rng(1).random((2, 3, 5, 7)) < 0.7},
    "broadcast mask (Lk,)": {"mask": np.array([True, False, True, True, False, True, True])},
    "broadcast mask (B, 1, Lq, Lk)": {"mask": np.random.default_rng(2).random((2, 1, 5, 7)) < 0.5},
    "mask and causal": {"mask": np.random.default_rng(3).random((5, 7)) < 0.8, "is_causal": True},
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(MASKS))
def test_masks(dtype, case):
    options = MASKS[case]
    assert_kernel_equals_reference(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, **options),
        make((2, 3), 5, 7, dtype),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_fully_masked_rows(dtype):
    mask = np.ones((2, 3, 5, 7), dtype=bool)
    mask[0, 1, 2] = False  # one query sees nothing
    mask[1] = False  # a whole batch entry sees nothing
    assert_kernel_equals_reference(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=mask),
        make((2, 3), 5, 7, dtype),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("q_len", "k_len"), [(1, 9), (3, 8), (6, 4), (7, 7)])
def test_causal_with_different_lengths(dtype, q_len, k_len):
    assert_kernel_equals_reference(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True),
        make((2,), q_len, k_len, dtype),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [{}, {"is_causal": True}], ids=["no mask", "causal"])
def test_dropout_with_the_same_seed(dtype, options):
    assert_kernel_equals_reference(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, dropout_p=0.3, **options),
        make((2, 3), 6, 6, dtype),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_keys_and_values_broadcast_over_heads(dtype):
    assert_kernel_equals_reference(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
        make((2, 4), 5, 5, dtype, k_batch=(2, 1)),
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs(dtype):
    """Heads as multi-head attention makes them: (B, H, T, hd) views of (B, T, H, hd)."""
    rng = np.random.default_rng(4)
    base = [rng.standard_normal((2, 6, 3, 4)).astype(dtype) for _ in range(3)]

    def attend(q, k, v):
        heads = [t.transpose(1, 2) for t in (q, k, v)]  # (B, T, H, hd) -> (B, H, T, hd)
        assert not heads[0].data.flags.c_contiguous
        return scaled_dot_product_attention(*heads, is_causal=True, dropout_p=0.1)

    assert_kernel_equals_reference(attend, base)
    strided = [a[:, ::2] for a in make((2,), 10, 10, dtype)]  # every other position
    assert_kernel_equals_reference(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True), strided
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_scores(dtype):
    """Scores 100x larger: their rounding errors, and so the tolerance, are 100x larger too."""
    q, k, v = make((2,), 4, 6, dtype)
    assert_kernel_equals_reference(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True),
        [q * 100, k, v],
        looser=100.0,
    )


@pytest.mark.parametrize("training", [False, True])
def test_multi_head_attention_through_both(training):
    manual_seed(0)
    layer = MultiHeadAttention(16, 4, dropout=0.2)
    layer.train(training)
    x = np.random.default_rng(5).standard_normal((3, 7, 16)).astype(np.float32)
    assert_kernel_equals_reference(lambda x: layer(x, is_causal=True), [x])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("which", [0, 1, 2], ids=["q", "k", "v"])
def test_only_one_input_requires_grad(dtype, which):
    """The kernel skips the gradients nobody asked for; the one asked for still agrees."""
    arrays = make((2, 3), 5, 5, dtype)
    upstream = np.random.default_rng(8).standard_normal((2, 3, 5, 6)).astype(dtype)

    def gradient() -> np.ndarray:
        inputs = [Tensor(a, dtype=a.dtype, requires_grad=i == which) for i, a in enumerate(arrays)]
        out = scaled_dot_product_attention(*inputs, is_causal=True)
        return grad(out, [inputs[which]], grad_outputs=upstream)[0].data

    ours = gradient()
    with use_references():
        theirs = gradient()
    tolerance = TOLERANCE[dtype]
    scale = max(1.0, float(np.abs(theirs).max()))
    np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("length", "blocks"), [(128, 2), (136, 2), (256, 4)])
def test_long_causal_sequences_run_in_query_blocks(dtype, length, blocks):
    """From CAUSAL_BLOCK_MIN queries the causal kernel skips the masked keys block by block."""
    assert len(causal_blocks(length, length, False, 0.0)) == blocks
    arrays = make((2, 2), length, length, dtype, d=4, dv=3)
    assert_kernel_equals_reference(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True), arrays
    )
    inputs = [Tensor(a, dtype=a.dtype, requires_grad=True) for a in arrays]
    out = scaled_dot_product_attention(*inputs, is_causal=True)
    assert isinstance(out.grad_fn.saved[0], tuple) and len(out.grad_fn.saved[0]) == blocks


def test_only_plain_causal_self_attention_is_blocked():
    assert causal_blocks(127, 127, False, 0.0) == []  # short
    assert causal_blocks(128, 200, False, 0.0) == []  # queries after a cache
    assert causal_blocks(128, 128, True, 0.0) == []  # another mask, or not causal
    assert causal_blocks(128, 128, False, 0.1) == []  # dropout: draws in the reference's order
    assert causal_blocks(300, 300, False, 0.0) == [(0, 75), (75, 150), (150, 225), (225, 300)]


def test_multi_head_attention_with_a_long_context_through_both():
    manual_seed(0)
    layer = MultiHeadAttention(16, 4)
    x = np.random.default_rng(5).standard_normal((2, 130, 16))
    assert_kernel_equals_reference(lambda x: layer(x, is_causal=True), [x])
