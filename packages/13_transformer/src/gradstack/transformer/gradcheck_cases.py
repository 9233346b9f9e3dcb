"""Gradient checks of gradstack.transformer: LayerNorm, MLP, TransformerBlock, GPT."""

from __future__ import annotations

from functools import partial
from types import ModuleType
from typing import Any

import numpy as np

from gradstack.tensor import (
    Built,
    GradCase,
    Tensor,
    TorchCase,
    cases_of,
    f64,
    manual_seed,
    module_case,
    randomized,
    torch_leaf,
)
from gradstack.transformer import GPT, MLP, LayerNorm, TransformerBlock, layer_norm

TOKENS = np.array([[1, 4, 4], [0, 2, 3]])  # (B=2, T=3), a repeated token


def _layer_norm() -> list[Built]:
    """LayerNorm over the last dim: gradients to x, gamma and beta."""
    norm = randomized(LayerNorm(5), 1)
    x = f64((2, 3, 5), 2, -2.0, 2.0)
    return [module_case(norm, lambda: norm(x), x)]


def _mlp() -> list[Built]:
    """MLP (Linear, tanh-GELU, Linear)."""
    manual_seed(0)
    mlp = randomized(MLP(4, 6), 3)
    x = f64((2, 3, 4), 4)
    return [module_case(mlp, lambda: mlp(x), x)]


def _block() -> list[Built]:
    """A pre-norm block: every one of its 16 parameters must get its gradient."""
    manual_seed(1)
    block = randomized(TransformerBlock(4, 2), 5)
    x = f64((2, 3, 4), 6)
    return [module_case(block, lambda: block(x), x)]


def _gpt() -> list[Built]:
    """A whole (tiny) GPT on integer tokens: gradients to every parameter."""
    manual_seed(2)
    model = randomized(GPT(vocab_size=5, embed_dim=4, num_layers=1, num_heads=2, max_seq_len=4), 7)
    return [module_case(model, lambda: model(TOKENS))]


def _torch_gpt(torch: ModuleType, w: dict[str, Any], layers: int, heads: int) -> Any:
    """The same GPT written with PyTorch ops, reading weights by our parameter names."""
    f = torch.nn.functional
    tokens = torch.tensor(TOKENS)
    batch, seq = TOKENS.shape
    x = f.embedding(tokens, w["token_embedding.weight"]) + w["position_embedding.weight"][:seq]
    width = x.shape[-1]

    def norm(h: Any, name: str) -> Any:
        return f.layer_norm(h, (width,), w[f"{name}.gamma"], w[f"{name}.beta"], 1e-5)

    def linear(h: Any, name: str) -> Any:
        return f.linear(h, w[f"{name}.weight"], w.get(f"{name}.bias"))

    for i in range(layers):
        p = f"blocks.{i}"
        h = norm(x, f"{p}.ln1")
        q, k, v = (
            linear(h, f"{p}.attn.{n}").reshape(batch, seq, heads, -1).transpose(1, 2)
            for n in ("q_proj", "k_proj", "v_proj")
        )  # (B, H, T, D) each
        y = f.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, D)
        x = x + linear(y.transpose(1, 2).reshape(batch, seq, width), f"{p}.attn.out_proj")
        h = f.gelu(linear(norm(x, f"{p}.ln2"), f"{p}.mlp.linear1"), approximate="tanh")
        x = x + linear(h, f"{p}.mlp.linear2")
    return linear(norm(x, "ln_f"), "lm_head")  # (B, T, V)


def _torch_cases() -> list[TorchCase]:
    """GPT logits and every parameter's gradient against the PyTorch version."""
    manual_seed(3)
    model = randomized(GPT(vocab_size=5, embed_dim=4, num_layers=2, num_heads=2, max_seq_len=4), 8)
    named = list(model.named_parameters())
    arrays = {name: p.data.copy() for name, p in named}

    def ours() -> tuple[Tensor, list[Tensor]]:
        return model(TOKENS), [p for _, p in named]

    def theirs(torch: ModuleType) -> tuple[Any, list[Any]]:
        weights = {name: torch_leaf(torch, array) for name, array in arrays.items()}
        return _torch_gpt(torch, weights, 2, 2), [weights[name] for name, _ in named]

    return [TorchCase("GPT", ours, theirs)]


NORM_SHAPES = [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 5), (3, 5)), ((7,), 7)]


def _norm_inputs(seed: int, x_shape: tuple[int, ...], shape: Any) -> list[Tensor]:
    """x (scaled and shifted), gamma and beta as float64 tensors that require grad."""
    rng = np.random.default_rng(seed)
    normalized = (shape,) if isinstance(shape, int) else shape
    return [
        Tensor(rng.standard_normal(x_shape) * 3 + 1, dtype="float64", requires_grad=True),
        Tensor(rng.standard_normal(normalized), dtype="float64", requires_grad=True),
        Tensor(rng.standard_normal(normalized), dtype="float64", requires_grad=True),
    ]


def _norm_op(x_shape: tuple[int, ...], shape: Any) -> Built:
    """The layer_norm op over the last dim(s), gradients to x, gamma and beta."""
    return (lambda x, g, b: layer_norm(x, shape, g, b)), _norm_inputs(1, x_shape, shape)


def _norm_alone(wanted: int) -> Built:
    """layer_norm where only one of x, gamma, beta requires grad (the rule skips the rest)."""
    inputs = _norm_inputs(2, (3, 4, 6), (6,))
    for i, tensor in enumerate(inputs):
        tensor.requires_grad = i == wanted
    return (lambda x, g, b: layer_norm(x, 6, g, b)), inputs


def _norm_module_two_dims() -> Built:
    """The LayerNorm module over two dims with eps=1e-3 and random gamma, beta."""
    rng = np.random.default_rng(4)
    norm = LayerNorm((3, 4), eps=1e-3).double()
    norm.gamma.data[...] = rng.standard_normal((3, 4))
    norm.beta.data[...] = rng.standard_normal((3, 4))
    x = Tensor(rng.standard_normal((2, 3, 4)), dtype="float64", requires_grad=True)
    return module_case(norm, lambda: norm(x), x)


NORM_CASES = [
    *(GradCase("layer_norm", f"x {x} over {n}", partial(_norm_op, x, n), "layer_norm")
      for x, n in NORM_SHAPES),
    *(GradCase("layer_norm", f"only {name} requires grad", partial(_norm_alone, i), "layer_norm")
      for i, name in enumerate(("x", "gamma", "beta"))),
    GradCase("LayerNorm", "module over two dims, eps 1e-3", _norm_module_two_dims, "layer_norm"),
]  # fmt: skip

GRADCHECK_CASES = [
    *NORM_CASES,
    *cases_of("LayerNorm", _layer_norm, ("(B, T, C)",)),
    *cases_of("MLP", _mlp, ("(B, T, C)",)),
    *cases_of("TransformerBlock", _block, ("(B, T, C), 2 heads",)),
    *cases_of("GPT", _gpt, ("1 layer, repeated token",)),
]
TORCH_CASES = _torch_cases()
