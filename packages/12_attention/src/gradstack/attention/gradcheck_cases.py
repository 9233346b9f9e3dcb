"""Gradient checks of gradstack.attention: the fused attention op and MultiHeadAttention."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import Any

import numpy as np

from gradstack.attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention
from gradstack.tensor import (
    Built,
    GradCase,
    Tensor,
    TorchCase,
    cases_of,
    f64,
    manual_seed,
    module_case,
    torch_leaf,
)

from .scaled_dot_product import OP

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "out_proj")
SDPA = "scaled_dot_product_attention"
MASKS = [(4, 5), (2, 1, 4, 5)]


def qkv(
    batch: tuple[int, ...],
    q_len: int,
    k_len: int,
    d: int = 3,
    dv: int | None = None,
    seed: int = 0,
    k_batch: tuple[int, ...] | None = None,
) -> list[Tensor]:
    """Float64 q (batch, q_len, d), k and v (k_batch, k_len, d or dv) that require grad."""
    rng = np.random.default_rng(seed)
    kb = batch if k_batch is None else k_batch
    arrays = (
        rng.standard_normal(batch + (q_len, d)),
        rng.standard_normal(kb + (k_len, d)),
        rng.standard_normal(kb + (k_len, dv or d)),
    )
    return [Tensor(a, dtype="float64", requires_grad=True) for a in arrays]


def _attend(**options: Any) -> Callable[..., Tensor]:
    """The attention op with fixed keyword options."""
    return lambda q, k, v: scaled_dot_product_attention(q, k, v, **options)


def _mask(shape: tuple[int, ...]) -> np.ndarray:
    """A random boolean mask where every query keeps its first key."""
    mask = np.random.default_rng(3).random(shape) < 0.6
    mask[..., 0] = True
    return mask


def _partly_blind() -> np.ndarray:
    """Query 1 of batch 0 sees no key, batch 1 sees none at all: zero rows, no NaN."""
    mask = np.ones((2, 3, 4), dtype=bool)
    mask[0, 1] = False
    mask[1] = False
    return mask


def _with_dropout(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """Causal attention with dropout, the same mask at every evaluation (the seed is reset)."""
    manual_seed(11)
    return scaled_dot_product_attention(q, k, v, dropout_p=0.3, is_causal=True)


def _only(which: int) -> Built:
    """Causal attention where only one of q, k, v requires grad."""
    tensors = qkv((2,), 3, 4)
    for i, tensor in enumerate(tensors):
        tensor.requires_grad = i == which
    return _attend(is_causal=True), tensors


def _op_case(label: str, fn: Callable[..., Tensor], *shape: Any, **options: Any) -> GradCase:
    """A case of the attention op on fresh ``qkv(*shape, **options)``."""
    return GradCase(SDPA, label, lambda: (fn, qkv(*shape, **options)), OP)


OP_CASES = [
    _op_case("no mask, dv != d", _attend(), (2, 3), 4, 5, d=3, dv=2),
    *(_op_case(f"boolean mask {m}", _attend(mask=_mask(m)), (2, 3), 4, 5) for m in MASKS),
    _op_case("causal square", _attend(is_causal=True), (2, 2), 5, 5),
    *(_op_case(f"causal Lq={a} Lk={b}", _attend(is_causal=True), (2,), a, b, dv=4)
      for a, b in [(2, 6), (6, 3)]),
    _op_case("causal_mask tensor, scale 0.7", _attend(mask=causal_mask(4), scale=0.7), (3,), 4, 4),
    _op_case("keys shared across heads", _attend(is_causal=True), (2, 3), 4, 5, k_batch=(2, 1)),
    _op_case("fully masked rows", _attend(mask=_partly_blind()), (2,), 3, 4),
    _op_case("dropout, fixed seed", _with_dropout, (2, 2), 4, 4),
    *(GradCase(SDPA, f"only {n} requires grad", partial(_only, i), OP)
      for i, n in enumerate("qkv")),
]  # fmt: skip


def _sdpa() -> list[Built]:
    """Causal self-attention, a boolean mask broadcast over heads, cross-attention Lq != Lk."""
    mask = np.random.default_rng(1).random((1, 4, 5)) > 0.3
    mask[..., 0] = True  # every query may attend somewhere
    return [
        (
            lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True),
            [f64((2, 2, 4, 3), 2), f64((2, 2, 4, 3), 3), f64((2, 2, 4, 3), 4)],
        ),
        (
            lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=mask),
            [f64((2, 1, 4, 3), 5), f64((2, 1, 5, 3), 6), f64((2, 1, 5, 3), 7)],
        ),
        (
            lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=causal_mask(4)),
            [f64((3, 4, 2), 8), f64((3, 4, 2), 9), f64((3, 4, 2), 10)],
        ),
    ]


def _multi_head() -> list[Built]:
    """MultiHeadAttention (causal, 2 heads): gradients to x and all four projections."""
    manual_seed(0)
    attn = MultiHeadAttention(6, 2).double()
    x = f64((2, 4, 6), 11)
    return [module_case(attn, lambda: attn(x, is_causal=True), x)]


def _torch_mha(torch: ModuleType, x: object, weights: dict[str, object], heads: int) -> object:
    """Causal multi-head self-attention written with PyTorch ops, from our weights."""
    functional = torch.nn.functional
    batch, seq, width = x.shape  # type: ignore[attr-defined]

    def heads_first(t: object) -> object:
        return t.reshape(batch, seq, heads, width // heads).transpose(1, 2)  # (B, H, T, D)

    q, k, v = (
        heads_first(functional.linear(x, weights[f"{p}.weight"], weights[f"{p}.bias"]))
        for p in PROJECTIONS[:3]
    )
    y = functional.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, D)
    y = y.transpose(1, 2).reshape(batch, seq, width)  # (B, T, H, D) -> (B, T, C)
    return functional.linear(y, weights["out_proj.weight"], weights["out_proj.bias"])


def _torch_cases() -> list[TorchCase]:
    """The attention op and MultiHeadAttention against torch's scaled_dot_product_attention."""
    qkv0 = [np.random.default_rng(20 + i).uniform(-1, 1, (2, 2, 4, 3)) for i in range(3)]
    manual_seed(3)
    attn = MultiHeadAttention(6, 2).double()
    names = [name for name, _ in attn.named_parameters()]
    arrays = {name: p.data.copy() for name, p in attn.named_parameters()}
    x0 = np.random.default_rng(23).uniform(-1, 1, (2, 4, 6))

    def sdpa_ours() -> tuple[Tensor, list[Tensor]]:
        q, k, v = (Tensor(a, dtype="float64", requires_grad=True) for a in qkv0)
        return scaled_dot_product_attention(q, k, v, is_causal=True), [q, k, v]

    def sdpa_theirs(torch: ModuleType) -> tuple[object, list[object]]:
        q, k, v = (torch_leaf(torch, a) for a in qkv0)
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return out, [q, k, v]

    def mha_ours() -> tuple[Tensor, list[Tensor]]:
        x = Tensor(x0, dtype="float64", requires_grad=True)
        return attn(x, is_causal=True), [x, *attn.parameters()]

    def mha_theirs(torch: ModuleType) -> tuple[object, list[object]]:
        x = torch_leaf(torch, x0)
        weights = {name: torch_leaf(torch, arrays[name]) for name in names}
        return _torch_mha(torch, x, weights, 2), [x, *(weights[name] for name in names)]

    return [
        TorchCase("sdpa", sdpa_ours, sdpa_theirs),
        TorchCase("MultiHeadAttention", mha_ours, mha_theirs),
    ]


GRADCHECK_CASES = [
    *OP_CASES,
    *cases_of(
        "scaled_dot_product_attention",
        _sdpa,
        ("causal, 2 heads", "boolean mask, Lq != Lk", "causal_mask tensor, 3-D"),
    ),
    *cases_of("MultiHeadAttention", _multi_head, ("causal, 2 heads",)),
]
TORCH_CASES = _torch_cases()
