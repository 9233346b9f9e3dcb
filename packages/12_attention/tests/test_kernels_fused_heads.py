"""The fused multi-head kernel (q, k, v in one product) equals the layer's modules.

``MultiHeadAttention.__call__`` runs ``kernels/fused_heads.py`` for plain self-attention
when kernels are on; ``use_references()`` runs the modules (three Linear layers, the head
split, the reference attention, the merge). Both get the same input and upstream
gradient; the output, the input's gradient and all eight parameter gradients must agree.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.attention import KVCache, MultiHeadAttention
from gradstack.attention.kernels import self_attention_heads
from gradstack.autograd import profile
from gradstack.tensor import Tensor, kernels_enabled, manual_seed, no_grad, use_references

TOLERANCE = {np.float32: 3e-6, np.float64: 1e-12}


@pytest.fixture(autouse=True)
def kernels_on() -> None:
    """These tests compare the kernel with the reference: both must be able to run."""
    if not kernels_enabled():
        pytest.skip("GRADSTACK_KERNELS=0 for this run: the kernel is switched off")


def layer_of(width: int, heads: int, dtype, dropout: float = 0.0) -> MultiHeadAttention:
    """A layer with random (not zero) biases, in ``dtype``."""
    manual_seed(3)
    layer = MultiHeadAttention(width, heads, dropout=dropout)
    rng = np.random.default_rng(4)
    for p in layer.parameters():
        p.data = (p.data + 0.1 * rng.standard_normal(p.shape)).astype(dtype)
    return layer


def op_names(out: Tensor) -> set[str]:
    """The names of every op in out's graph."""
    names, stack, seen = set(), [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or not hasattr(node, "op"):
            continue
        seen.add(id(node))
        names.add(node.op.name)
        stack += [getattr(t, "grad_fn", None) for t in node.inputs]
    return names


def run(layer, x: np.ndarray, upstream: np.ndarray, seed: int, **options):
    """Output, input gradient and parameter gradients of one call and backward."""
    for p in layer.parameters():
        p.grad = None
    inputs = Tensor(x, dtype=x.dtype, requires_grad=True)
    manual_seed(seed)
    out = layer(inputs, **options)
    attention = "fused" if "self_attention_heads" in op_names(out) else "modules"
    out.backward(upstream)
    return out, inputs.grad.data, [p.grad.data for p in layer.parameters()], attention


def assert_fused_equals_modules(layer, x: np.ndarray, **options) -> str:
    """Compare the two paths; return the op name of the kernel path's attention node."""
    dtype = x.dtype.type
    upstream = np.random.default_rng(9).standard_normal(x.shape).astype(dtype)
    out, gx, grads, attention = run(layer, x, upstream, seed=5, **options)
    with use_references():
        ref_out, ref_gx, ref_grads, ref_attention = run(layer, x, upstream, seed=5, **options)
    assert ref_attention == "modules"
    assert out.dtype == ref_out.dtype == dtype
    tolerance = TOLERANCE[dtype]
    for ours, theirs in zip([out.data, gx, *grads], [ref_out.data, ref_gx, *ref_grads]):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        scale = max(1.0, float(np.abs(theirs).max()))
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance * scale)
    return attention


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("batch", "length", "width", "heads"), [(3, 7, 16, 4), (1, 5, 8, 1)])
@pytest.mark.parametrize("is_causal", [True, False])
def test_fused_heads_equal_the_modules(dtype, batch, length, width, heads, is_causal):
    layer = layer_of(width, heads, dtype)
    x = np.random.default_rng(1).standard_normal((batch, length, width)).astype(dtype)
    assert assert_fused_equals_modules(layer, x, is_causal=is_causal) == "fused"


def test_a_long_causal_context_runs_fused_and_in_query_blocks():
    layer = layer_of(8, 2, np.float64)
    x = np.random.default_rng(2).standard_normal((2, 130, 8))
    assert assert_fused_equals_modules(layer, x, is_causal=True) == "fused"


def test_attention_dropout_draws_the_same_masks_as_the_modules():
    layer = layer_of(16, 4, np.float64, dropout=0.3)
    layer.train()
    x = np.random.default_rng(6).standard_normal((2, 6, 16))
    assert assert_fused_equals_modules(layer, x, is_causal=True) == "fused"


def test_only_the_input_or_only_the_weights_need_gradients():
    layer = layer_of(8, 2, np.float64)
    x = np.random.default_rng(7).standard_normal((2, 4, 8))
    out = layer(Tensor(x, dtype=np.float64), is_causal=True)  # weights only
    out.backward(np.ones(out.shape))
    assert all(p.grad is not None for p in layer.parameters())
    for p in layer.parameters():
        p.requires_grad = False
    inputs = Tensor(x, dtype=np.float64, requires_grad=True)
    layer(inputs, is_causal=True).backward(np.ones(out.shape))
    with use_references():
        reference = Tensor(x, dtype=np.float64, requires_grad=True)
        layer(reference, is_causal=True).backward(np.ones(out.shape))
    np.testing.assert_allclose(inputs.grad.data, reference.grad.data, rtol=1e-12, atol=1e-12)


def test_masks_caches_and_watched_ops_run_the_modules():
    layer = layer_of(8, 2, np.float32)
    x = Tensor(np.random.default_rng(8).standard_normal((2, 4, 8)), requires_grad=True)
    mask = np.tril(np.ones((4, 4), dtype=bool))
    assert "self_attention_heads" not in op_names(layer(x, mask=mask))
    with profile():
        assert "self_attention_heads" not in op_names(layer(x, is_causal=True))
    assert "self_attention_heads" in op_names(layer(x, is_causal=True))
    with no_grad():
        cache = KVCache(2, 2, 8, 4, dtype=np.float32)
        cached = layer(Tensor(x.data), cache=cache)
        plain = self_attention_heads(layer, Tensor(x.data), is_causal=True)
    np.testing.assert_allclose(cached.data, plain.data, rtol=1e-5, atol=1e-6)
    assert cache.length == 4  # the cache path ran and filled the cache


def test_a_batch_shard_runs_fused_too_with_the_same_values():
    """A shard's thread (one glibc arena since tune_malloc caps it) takes the fused node."""
    from gradstack.tensor import worker_scope

    layer = layer_of(8, 2, np.float32)
    x = Tensor(np.random.default_rng(8).standard_normal((2, 4, 8)), requires_grad=True)
    with worker_scope():
        in_shard = layer(x, is_causal=True)
        assert "self_attention_heads" in op_names(in_shard)
    outside = layer(x, is_causal=True)
    np.testing.assert_array_equal(in_shard.data, outside.data)
