"""A block with each layer norm folded into its next product equals the block's modules.

``TransformerBlock.__call__`` runs ``kernels/fused_block.py`` when kernels are on: two
nodes (``layer_norm_self_attention``, ``layer_norm_linear``) in place of the norms and
the products after them. Each test runs a block, or one node, with kernels on and inside
``use_references()`` on the same inputs and upstream gradient, and compares the output,
the input's gradient and every parameter gradient; the nodes' rules are also checked
against float64 central differences.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.attention import KVCache
from gradstack.autograd import gradcheck, profile
from gradstack.tensor import (
    OPS,
    Tensor,
    apply,
    kernels_enabled,
    manual_seed,
    no_grad,
    use_references,
)
from gradstack.transformer import TransformerBlock
from gradstack.transformer.kernels.normed_linear import layer_norm_linear_op

TOLERANCE = {np.float32: 2e-5, np.float64: 1e-12}
FOLDED = {"layer_norm_self_attention", "layer_norm_linear"}


@pytest.fixture(autouse=True)
def kernels_on() -> None:
    """These tests compare the kernel with the reference: both must be able to run."""
    if not kernels_enabled():
        pytest.skip("GRADSTACK_KERNELS=0 for this run: the kernel is switched off")


def block_of(width: int, heads: int, dtype, dropout: float = 0.0) -> TransformerBlock:
    """A block whose every parameter (gains and shifts too) is perturbed from its init."""
    manual_seed(3)
    block = TransformerBlock(width, heads, dropout=dropout)
    rng = np.random.default_rng(4)
    for p in block.parameters():
        p.data = (p.data + 0.3 * rng.standard_normal(p.shape)).astype(dtype)
    return block


def op_names(out: Tensor) -> set[str]:
    """The names of every op in out's graph."""
    names, stack, seen = set(), [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.op.name)
        stack += [t.grad_fn for t in node.inputs]
    return names


def run_block(block: TransformerBlock, x: np.ndarray, upstream: np.ndarray, seed: int = 0):
    """Output, op names, input gradient and parameter gradients of one call and backward."""
    for p in block.parameters():
        p.grad = None
    inputs = Tensor(x, dtype=x.dtype, requires_grad=True)
    manual_seed(seed)
    out = block(inputs)
    names = op_names(out)  # before backward, which frees the graph
    out.backward(upstream)
    grads = [None if p.grad is None else p.grad.data.copy() for p in block.parameters()]
    return out.data, names, inputs.grad.data, grads


def assert_close(a: np.ndarray, b: np.ndarray, dtype) -> None:
    """Equal to rounding, relative to the size of the values."""
    tolerance = TOLERANCE[dtype]
    scale = max(1.0, float(np.abs(b).max()))
    np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance * scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5, 8, 2), (2, 16, 12, 3), (1, 4, 6, 1)])
def test_block_equals_its_modules(dtype, shape):
    batch, length, width, heads = shape
    block = block_of(width, heads, dtype)
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((batch, length, width)) * 2 + 0.5).astype(dtype)
    upstream = rng.standard_normal(x.shape).astype(dtype)
    ours = run_block(block, x, upstream)
    with use_references():
        theirs = run_block(block, x, upstream)
    assert ours[1] >= FOLDED and "layer_norm" not in ours[1]
    assert "layer_norm" in theirs[1] and not FOLDED & theirs[1]
    assert ours[0].dtype == dtype
    for a, b in zip(ours[0::2], theirs[0::2]):
        assert_close(a, b, dtype)
    for a, b in zip(ours[3], theirs[3]):
        assert a.shape == b.shape
        assert_close(a, b, dtype)


def test_dropout_draws_the_same_masks_as_the_modules():
    block = block_of(8, 2, np.float64, dropout=0.3)
    block.train()
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 6, 8))
    upstream = rng.standard_normal(x.shape)
    ours = run_block(block, x, upstream, seed=11)
    with use_references():
        theirs = run_block(block, x, upstream, seed=11)
    assert ours[1] >= FOLDED
    assert np.count_nonzero(ours[0] != run_block(block, x, upstream, seed=12)[0]) > 0
    for a, b in zip(ours[0::2], theirs[0::2]):
        assert_close(a, b, np.float64)
    for a, b in zip(ours[3], theirs[3]):
        assert_close(a, b, np.float64)


def test_frozen_norm_and_projection_get_no_gradient_and_the_rest_are_right():
    block = block_of(8, 2, np.float64)
    frozen = [block.ln1.gamma, block.ln2.beta, block.attn.k_proj.weight, block.mlp.linear1.bias]
    for p in frozen:
        p.requires_grad = False
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 5, 8))
    upstream = rng.standard_normal(x.shape)
    ours = run_block(block, x, upstream)
    with use_references():
        theirs = run_block(block, x, upstream)
    assert ours[1] >= FOLDED
    for p, a, b in zip(block.parameters(), ours[3], theirs[3]):
        if any(p is f for f in frozen):
            assert a is None and b is None
        else:
            assert_close(a, b, np.float64)


def test_a_cache_or_a_profile_runs_the_modules():
    block = block_of(8, 2, np.float32)
    x = Tensor(np.random.default_rng(9).standard_normal((2, 4, 8)).astype(np.float32))
    with profile():
        watched = block(x)
    assert "layer_norm" in op_names(watched) and not FOLDED & op_names(watched)
    cache = KVCache(2, 2, max_len=8, head_dim=4)
    with no_grad():
        cached, whole = block(x, cache=cache), block(x)
    assert cache.length == 4
    np.testing.assert_allclose(cached.data, whole.data, rtol=2e-6, atol=2e-6)


def test_layer_norm_linear_matches_finite_differences():
    rng = np.random.default_rng(10)
    inputs = [
        Tensor(rng.standard_normal(shape) * scale + shift, dtype=np.float64, requires_grad=True)
        for shape, scale, shift in [
            ((2, 3, 5), 2.0, 1.0),  # x: rows with a mean and a spread to remove
            ((5,), 0.5, 1.0),  # gamma
            ((5,), 0.5, 0.0),  # beta
            ((4, 5), 1.0, 0.0),  # weight
            ((4,), 1.0, 0.0),  # bias
        ]
    ]
    assert gradcheck(lambda *t: apply(layer_norm_linear_op, *t, eps=1e-5), inputs, atol=1e-6)


@pytest.mark.parametrize("dropout_p", [0.0, 0.25])
def test_layer_norm_self_attention_matches_finite_differences(dropout_p):
    rng = np.random.default_rng(11)
    width = 4

    def tensor(shape, scale=1.0, shift=0.0):
        data = rng.standard_normal(shape) * scale + shift
        return Tensor(data, dtype=np.float64, requires_grad=True)

    x = tensor((2, 3, width), 2.0, 1.0)
    norm = [tensor((width,), 0.5, 1.0), tensor((width,), 0.5)]
    projections = [tensor((width, width)) for _ in range(3)] + [tensor((width,)) for _ in range(3)]

    def attend(*t: Tensor) -> Tensor:
        manual_seed(2)  # the same dropout masks on every evaluation
        return apply(
            OPS["layer_norm_self_attention"],
            *t,
            eps=1e-5,
            num_heads=2,
            is_causal=True,
            dropout_p=dropout_p,
        )

    assert gradcheck(attend, [x, *norm, *projections], atol=1e-6)
