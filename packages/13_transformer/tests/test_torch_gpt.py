"""A tiny GPT re-implemented in PyTorch with copied weights: logits and every gradient match."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.tensor import Tensor, manual_seed
from gradstack.transformer import GPT


def torch_gpt_logits(torch, weights, tokens, config):
    """GPT-2 forward in plain torch.nn.functional, reading gradstack's parameter names."""
    functional = torch.nn.functional
    batch, seq_len = tokens.shape
    channels, heads = config.embed_dim, config.num_heads
    position = next(name for name in weights if name.startswith("position_embedding."))
    x = weights["token_embedding.weight"][tokens] + weights[position][:seq_len]  # (B, T, C)
    for i in range(config.num_layers):

        def w(name, i=i):
            return weights[f"blocks.{i}.{name}"]

        h = functional.layer_norm(x, (channels,), w("ln1.gamma"), w("ln1.beta"), eps=1e-5)

        def split_heads(proj, h=h, w=w):
            out = functional.linear(h, w(f"attn.{proj}.weight"), w(f"attn.{proj}.bias"))
            # (B, T, C) -> (B, T, H, hd) -> (B, H, T, hd)
            return out.view(batch, seq_len, heads, channels // heads).transpose(1, 2)

        q, k, v = split_heads("q_proj"), split_heads("k_proj"), split_heads("v_proj")
        attended = functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        attended = attended.transpose(1, 2).reshape(batch, seq_len, channels)  # (B, T, C)
        x = x + functional.linear(attended, w("attn.out_proj.weight"), w("attn.out_proj.bias"))
        h = functional.layer_norm(x, (channels,), w("ln2.gamma"), w("ln2.beta"), eps=1e-5)
        h = functional.gelu(
            functional.linear(h, w("mlp.linear1.weight"), w("mlp.linear1.bias")),
            approximate="tanh",
        )
        x = x + functional.linear(h, w("mlp.linear2.weight"), w("mlp.linear2.bias"))
    x = functional.layer_norm(x, (channels,), weights["ln_f.gamma"], weights["ln_f.beta"])
    return functional.linear(x, weights["lm_head.weight"])  # (B, T, V)


def cross_entropy(logits: Tensor, targets: np.ndarray) -> Tensor:
    """Mean cross-entropy from elementary tensor ops."""
    flat = logits.reshape(-1, logits.shape[-1])  # (B, T, V) -> (B*T, V)
    shifted = flat - Tensor(flat.data.max(axis=-1, keepdims=True), dtype=flat.dtype)
    log_norm = shifted.exp().sum(dim=-1).log()  # (B*T,)
    picked = shifted[np.arange(flat.shape[0]), targets.reshape(-1)]  # (B*T,)
    return (log_norm - picked).mean()


@pytest.mark.torch
@pytest.mark.parametrize(("dtype", "atol"), [("float32", 1e-4), ("float64", 1e-10)])
def test_logits_and_every_gradient_match_torch(dtype, atol):
    torch = pytest.importorskip("torch")
    manual_seed(0)
    model = GPT(vocab_size=20, embed_dim=16, num_layers=2, num_heads=4, max_seq_len=10).to(dtype)
    rng = np.random.default_rng(0)
    for parameter in model.parameters():  # move away from the init so every term matters
        parameter.data += (rng.standard_normal(parameter.shape) * 0.2).astype(dtype)
    tokens = rng.integers(0, 20, size=(3, 10))
    targets = rng.integers(0, 20, size=(3, 10))

    logits = model(tokens)
    cross_entropy(logits, targets).backward()

    weights = {
        name: torch.tensor(p.data.copy(), requires_grad=True)
        for name, p in model.named_parameters()
    }
    expected = torch_gpt_logits(torch, weights, torch.tensor(tokens), model.config)
    loss = torch.nn.functional.cross_entropy(
        expected.reshape(-1, 20), torch.tensor(targets).reshape(-1)
    )
    loss.backward()

    assert logits.dtype == np.dtype(dtype)
    np.testing.assert_allclose(logits.data, expected.detach().numpy(), atol=atol)
    for name, parameter in model.named_parameters():
        assert parameter.grad.dtype == np.dtype(dtype), name
        np.testing.assert_allclose(
            parameter.grad.data, weights[name].grad.numpy(), atol=atol, err_msg=name
        )
