"""TransformerBlock: pre-norm structure against NumPy, causality, KV cache, all 16 gradients."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.attention import KVCache
from gradstack.tensor import Tensor, manual_seed, no_grad
from gradstack.transformer import TransformerBlock


def np_layer_norm(x, norm):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + norm.eps) * norm.gamma.data + norm.beta.data


def np_linear(x, linear):
    return x @ linear.weight.data.T + linear.bias.data


def np_causal_attention(attn, x, num_heads):
    batch, seq_len, channels = x.shape
    head_dim = channels // num_heads

    def heads(linear):
        # (B, T, C) -> (B, T, H, hd) -> (B, H, T, hd)
        return (
            np_linear(x, linear).reshape(batch, seq_len, num_heads, head_dim).transpose(0, 2, 1, 3)
        )

    q, k, v = heads(attn.q_proj), heads(attn.k_proj), heads(attn.v_proj)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_dim)  # (B, H, T, T)
    scores = np.where(np.tril(np.ones((seq_len, seq_len), dtype=bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    out = (weights @ v).transpose(0, 2, 1, 3).reshape(batch, seq_len, channels)  # (B, T, C)
    return np_linear(out, attn.out_proj)


def np_block(block, x, num_heads):
    x = x + np_causal_attention(block.attn, np_layer_norm(x, block.ln1), num_heads)
    hidden = np_linear(np_layer_norm(x, block.ln2), block.mlp.linear1)
    gelu = 0.5 * hidden * (1 + np.tanh(np.sqrt(2 / np.pi) * (hidden + 0.044715 * hidden**3)))
    return x + np_linear(gelu, block.mlp.linear2)


def randomized_block(embed_dim, num_heads, seed, mlp_ratio=4):
    """A float64 block whose parameters (LayerNorms and biases included) are all random."""
    manual_seed(seed)
    block = TransformerBlock(embed_dim, num_heads, mlp_ratio=mlp_ratio).double()
    rng = np.random.default_rng(seed)
    for parameter in block.parameters():
        parameter.data[...] = rng.standard_normal(parameter.shape) * 0.5
    return block


def test_sixteen_parameter_tensors():
    block = TransformerBlock(16, 4)
    shapes = {name: p.shape for name, p in block.named_parameters()}
    assert len(shapes) == 16
    assert shapes["ln1.gamma"] == (16,) and shapes["ln2.beta"] == (16,)
    assert shapes["attn.q_proj.weight"] == (16, 16) and shapes["attn.out_proj.bias"] == (16,)
    assert shapes["mlp.linear1.weight"] == (64, 16) and shapes["mlp.linear2.weight"] == (16, 64)
    assert TransformerBlock(16, 4, mlp_ratio=2).mlp.linear1.weight.shape == (32, 16)


def test_forward_matches_numpy_pre_norm_block():
    block = randomized_block(8, 2, seed=0)
    x = np.random.default_rng(0).standard_normal((3, 5, 8))
    out = block(Tensor(x, dtype="float64"))
    np.testing.assert_allclose(out.data, np_block(block, x, 2), rtol=1e-10, atol=1e-10)


def test_float32_in_float32_out():
    manual_seed(1)
    block = TransformerBlock(8, 2)
    out = block(Tensor(np.random.default_rng(1).standard_normal((2, 4, 8)).astype(np.float32)))
    assert out.dtype == np.float32 and out.shape == (2, 4, 8)


def test_attention_is_causal():
    block = randomized_block(8, 4, seed=2)
    x = np.random.default_rng(2).standard_normal((2, 6, 8))
    changed = x.copy()
    changed[:, 4:] += 1.0
    with no_grad():
        a = block(Tensor(x, dtype="float64")).data
        b = block(Tensor(changed, dtype="float64")).data
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=1e-12, atol=1e-12)


def test_kv_cache_chunks_equal_one_pass():
    """Prefill 3 positions, then 1, then 2: the same outputs as running all 6 at once."""
    block = randomized_block(8, 2, seed=3)
    x = np.random.default_rng(3).standard_normal((2, 6, 8))
    cache = KVCache(2, 2, 10, 4, dtype=np.float64)
    with no_grad():
        full = block(Tensor(x, dtype="float64")).data
        parts = [
            block(Tensor(x[:, a:b], dtype="float64"), cache=cache).data
            for a, b in ((0, 3), (3, 4), (4, 6))
        ]
    assert cache.length == 6
    np.testing.assert_allclose(np.concatenate(parts, axis=1), full, rtol=1e-10, atol=1e-10)


def test_a_block_has_sixteen_parameters():
    block = randomized_block(8, 2, seed=4, mlp_ratio=2)
    x = Tensor(
        np.random.default_rng(4).standard_normal((2, 3, 8)), dtype="float64", requires_grad=True
    )
    assert len(list(block.parameters())) == 16  # gradcheck_cases checks all of them
    assert block(x).shape == (2, 3, 8)


def test_every_parameter_receives_a_gradient():
    block = randomized_block(8, 2, seed=5)
    x = Tensor(np.random.default_rng(5).standard_normal((2, 4, 8)), dtype="float64")
    (block(x) ** 2).sum().backward()
    for name, parameter in block.named_parameters():
        assert parameter.grad is not None and np.abs(parameter.grad.data).max() > 0, name


def test_bad_arguments_are_errors():
    with pytest.raises(ValueError, match="TransformerBlock: embed_dim must be a positive int"):
        TransformerBlock(0, 2)
    with pytest.raises(ValueError, match="TransformerBlock: mlp_ratio must be positive"):
        TransformerBlock(8, 2, mlp_ratio=0)
