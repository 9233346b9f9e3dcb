"""The block kernel: a GPT block with each layer norm folded into the product after it.

``TransformerBlock.__call__`` runs ``fused_block`` when kernels are on. It computes what
``TransformerBlock.forward`` computes, through two nodes (``normed_linear.py`` here, and
``layer_norm_self_attention`` from gradstack.attention's kernels):

    x = x + dropout(out_proj(layer_norm_self_attention(x)))   # ln1, q k v, attention
    x = x + dropout(linear2(gelu(layer_norm_linear(x))))      # ln2, linear1, MLP

It declines (returns None, and the block runs its modules) for anything but plain
training or evaluation of a full sequence: a KV cache, an op hook watching the ops (a
profile, ``attention_maps``), layers the nodes do not cover (a Linear without bias), or
an attention package without its kernels.
"""

from __future__ import annotations

from typing import Any

from gradstack.activations import gelu
from gradstack.layers import dropout as dropout_fn
from gradstack.tensor import OPS, Tensor, apply, get_op_hook

from ..block import TransformerBlock, register_block_kernel
from .normed_linear import layer_norm_linear_op

ATTENTION_OP = "layer_norm_self_attention"  # gradstack.attention's kernels register it


def takes_fused_path(block: TransformerBlock, x: Any, cache: Any) -> bool:
    """Whether the block can run fused: the modules would compute the same thing."""
    attn, width = block.attn, block.ln1.normalized_shape
    return (
        cache is None
        and ATTENTION_OP in OPS
        and get_op_hook() is None
        and isinstance(x, Tensor)
        and x.ndim == 3
        and block.ln2.normalized_shape == width == (x.shape[-1],)
        and all(p.bias is not None for p in (attn.q_proj, attn.k_proj, attn.v_proj))
        and block.mlp.linear1.bias is not None
    )


def attention_half(block: TransformerBlock, x: Tensor) -> Tensor:
    """``attn(ln1(x), is_causal=True)``: the norm, q k v and attention in one node."""
    attn, norm = block.attn, block.ln1
    attn._check_input(x)
    projections = (attn.q_proj, attn.k_proj, attn.v_proj)
    heads = apply(
        OPS[ATTENTION_OP],
        x,
        norm.gamma,
        norm.beta,
        *[p.weight for p in projections],
        *[p.bias for p in projections],
        eps=norm.eps,
        num_heads=attn.num_heads,
        is_causal=True,
        dropout_p=attn.dropout if attn.training else 0.0,
    )  # (B, T, C), heads merged
    return dropout_fn(attn.out_proj(heads), attn.dropout, attn.training)


def mlp_half(block: TransformerBlock, x: Tensor) -> Tensor:
    """``mlp(ln2(x))``: the norm and the widening product in one node, then GELU and back."""
    mlp, norm = block.mlp, block.ln2
    wide = apply(
        layer_norm_linear_op,
        x,
        norm.gamma,
        norm.beta,
        mlp.linear1.weight,
        mlp.linear1.bias,
        eps=norm.eps,
    )  # (B, T, hidden)
    return mlp.dropout(mlp.linear2(gelu(wide, approximate="tanh")))


def fused_block(block: TransformerBlock, x: Any, cache: Any) -> Tensor | None:
    """The block's output through the folded nodes, or None when they do not apply."""
    if not takes_fused_path(block, x, cache):
        return None
    x = x + attention_half(block, x)
    return x + mlp_half(block, x)


register_block_kernel(fused_block)
