"""Multi-head self-attention with q, k and v from one product: the kernel MultiHeadAttention runs.

Through the modules (the reference), a layer's attention is three ``linear`` ops, three
head splits (a reshape and a transpose each), the attention op and the merge; its
backward makes three input gradients that the engine adds, and six weight and bias
gradients. This kernel makes the projections and the attention one graph node,
``self_attention_heads``:

- forward: the three weights stacked into one (3C, C) matrix, one (N, C) @ (C, 3C)
  product for all of q, k and v (a wider product, which OpenBLAS's two threads split far
  better: 0.51-0.62 of the three products' time at widths 64-128), and the attention
  kernel on views of it, whose output is already laid out as merged heads;
- backward: the attention kernel writes dq, dk and dv straight into one (B, T, 3, H, hd)
  buffer, so the input gradient is one product with the stacked weight and the weight
  gradient one more, sliced into the three weights' gradients (views, no copies).

Only plain self-attention takes this path (no mask, no cache, biases on, no op hook
watching the ops); anything else runs the modules. Batch shards take it too: it once
measured slower there (config C, 382-493 against 339-389 ms), but that was glibc giving
each shard's thread an arena whose heaps it unmapped every step; with one arena
(``gradstack.tensor.tune_malloc``) the fused node is level or ahead in shards (B: 79.0 vs
79.6 and 81.0 vs 81.1 ms, C: 229.6 vs 232.2 and 223.8 vs 225.8 ms, in one process,
alternating).
tests/test_kernels_fused_heads.py checks the values and every gradient against the module
path with kernels off.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from gradstack.autograd import register_rule
from gradstack.layers import dropout as dropout_fn
from gradstack.tensor import Node, Tensor, apply, get_op_hook, register_op, sum_rows

from ..multi_head import register_forward_kernel
from .sdpa import attention_forward_kernel, attention_grads

if TYPE_CHECKING:
    from ..multi_head import MultiHeadAttention

OP = "self_attention_heads"


def _heads(stacked: np.ndarray, batch: int, length: int, heads: int) -> tuple[np.ndarray, ...]:
    """q, k, v as (B, H, T, hd) views of a stacked (B, T, 3C) or (N, 3C) array."""
    head_dim = stacked.shape[-1] // (3 * heads)
    split = stacked.reshape(batch, length, 3, heads, head_dim)  # (N, 3C) -> (B, T, 3, H, hd)
    return tuple(split[:, :, i].transpose(0, 2, 1, 3) for i in range(3))  # (B, H, T, hd) each


@register_op(OP)
def self_attention_heads_op(
    x: np.ndarray,
    wq: np.ndarray,
    wk: np.ndarray,
    wv: np.ndarray,
    bq: np.ndarray,
    bk: np.ndarray,
    bv: np.ndarray,
    *,
    num_heads: int,
    is_causal: bool,
    dropout_p: float,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, tuple]]:
    """Merged heads (B, T, C) of attention over the q, k, v projections of x; saves for the rule."""
    batch, length, width = x.shape
    weight = np.concatenate((wq, wk, wv))  # 3 x (C, C) -> (3C, C)
    stacked = x.reshape(-1, width) @ weight.T  # (N, C) @ (C, 3C) -> (N, 3C)
    stacked += np.concatenate((bq, bk, bv))
    q, k, v = _heads(stacked, batch, length, num_heads)
    scale = 1.0 / math.sqrt(width // num_heads)
    y, saved = attention_forward_kernel(
        q, k, v, mask=None, is_causal=is_causal, scale=scale, dropout_p=dropout_p
    )  # (B, H, T, hd), laid out in memory as (B, T, H, hd) like q
    merged = y.transpose(0, 2, 1, 3).reshape(batch, length, width)  # (B, T, H, hd) -> (B, T, C)
    return merged, (weight, stacked, saved)


@register_rule(OP)
def self_attention_heads_backward(g: np.ndarray, node: Node) -> tuple[Any, ...]:
    """Gradients of x and the six projection parameters, two products for all three."""
    x = node.inputs[0].data
    weight, stacked, saved = node.saved
    batch, length, width = x.shape
    heads = node.attrs["num_heads"]
    q, k, v = _heads(stacked, batch, length, heads)
    g_heads = g.reshape(batch, length, heads, width // heads).transpose(0, 2, 1, 3)  # (B,H,T,hd)
    d_stacked = np.empty(stacked.shape, dtype=np.result_type(g, stacked))  # (N, 3C)
    into = _heads(d_stacked, batch, length, heads)
    scale = 1.0 / math.sqrt(width // heads)
    attention_grads(g_heads, q, k, v, saved, scale, node.attrs["dropout_p"], into=into)
    needs = node.needs_input_grad
    gx = (d_stacked @ weight).reshape(x.shape) if needs[0] else None  # (N, 3C) @ (3C, C)
    gw = d_stacked.T @ x.reshape(-1, width) if any(needs[1:4]) else None  # (3C, N) @ (N, C)
    gb = sum_rows(d_stacked) if any(needs[4:]) else None  # (3C,)
    parts = [None if gw is None else gw[i * width : (i + 1) * width] for i in range(3)]
    parts += [None if gb is None else gb[i * width : (i + 1) * width] for i in range(3)]
    return (gx, *(part if need else None for part, need in zip(parts, needs[1:])))


def self_attention_heads(layer: MultiHeadAttention, x: Tensor, is_causal: bool) -> Tensor:
    """``layer(x, is_causal=is_causal)`` through the fused node, then ``out_proj`` and dropout."""
    layer._check_input(x)
    dropout_p = layer.dropout if layer.training else 0.0
    projections = (layer.q_proj, layer.k_proj, layer.v_proj)
    params = [p.weight for p in projections] + [p.bias for p in projections]
    y = apply(
        self_attention_heads_op,
        x,
        *params,
        num_heads=layer.num_heads,
        is_causal=is_causal,
        dropout_p=dropout_p,
    )  # (B, T, C), heads merged
    return dropout_fn(layer.out_proj(y), layer.dropout, layer.training)


def takes_fused_path(
    layer: MultiHeadAttention, x: Any, mask: Any, is_causal: Any, cache: Any
) -> bool:
    """Whether a call can run fused: plain self-attention the modules would compute the same."""
    return (
        mask is None
        and cache is None
        and isinstance(is_causal, bool)
        and layer.q_proj.bias is not None
        and get_op_hook() is None
        and isinstance(x, Tensor)
        and x.ndim == 3
    )


def fused_runner(
    layer: MultiHeadAttention, x: Any, mask: Any, is_causal: Any, cache: Any
) -> Tensor | None:
    """The fused path when it applies, else None (the layer then runs its modules)."""
    if not takes_fused_path(layer, x, mask, is_causal, cache):
        return None
    return self_attention_heads(layer, x, is_causal)


register_forward_kernel(fused_runner)
