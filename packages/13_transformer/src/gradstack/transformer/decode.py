"""One cached decoding step on arrays: the inference fast path of ``generate``.

A decoding step pushes one position per sequence through every block. Through the
modules that is about 86 small ops of ~10 µs of Python each (Tensor wrapping, graph
checks, argument checks), so at batch 1 the step is bound by Python, not arithmetic.
This file runs the same step on ndarrays: the registered op forwards the modules use
(``layer_norm``, ``gelu``, ``scaled_dot_product_attention``) called directly, and the
``linear`` op's two lines of arithmetic, wired exactly as ``TransformerBlock.forward``
and ``MultiHeadAttention.forward`` wire them, with no Tensors and no graph. The q, k
and v projections are stacked into one product. It is only
ever used under ``no_grad`` in eval mode (by ``generation.CachedDecoder``), and the
tests check it against the module path token for token.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from gradstack.activations.ops import gelu as gelu_op
from gradstack.attention import KVCache
from gradstack.attention.scaled_dot_product import attention_forward
from gradstack.layers import Linear

from .layer_norm import layer_norm_forward
from .normalization import LayerNorm

if TYPE_CHECKING:
    from .block import TransformerBlock
    from .gpt import GPT


def _affine(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """``x @ W.T + b`` for x (B, in): the arithmetic of the ``linear`` op without its
    argument checks and batch folding (the shapes were fixed when the model was built;
    at one position per sequence those checks were a third of a product's cost)."""
    out = np.matmul(x, weight.T)
    if bias is not None:
        out += bias
    return out


def _linear(layer: Linear, x: np.ndarray) -> np.ndarray:
    """A Linear layer on x (B, in) -> (B, out)."""
    return _affine(x, layer.weight.data, None if layer.bias is None else layer.bias.data)


def _norm(layer: LayerNorm, x: np.ndarray) -> np.ndarray:
    """LayerNorm over the last dims with the layer's gain and shift."""
    ndim = len(layer.normalized_shape)
    return layer_norm_forward.forward(
        x, layer.gamma.data, layer.beta.data, ndim=ndim, eps=layer.eps
    )[0]


class QKV:
    """A block's q, k and v projections stacked into one (3C, C) weight: one product per
    step instead of three. Stacked once per generation (weights do not change then)."""

    def __init__(self, block: TransformerBlock) -> None:
        projections = (block.attn.q_proj, block.attn.k_proj, block.attn.v_proj)
        self.weight = np.concatenate([p.weight.data for p in projections])  # (3C, C)
        biases = [p.bias for p in projections]
        self.bias = None if biases[0] is None else np.concatenate([b.data for b in biases])


def _attention(block: TransformerBlock, qkv: QKV, h: np.ndarray, cache: KVCache) -> np.ndarray:
    """Causal multi-head attention of one new position per sequence, h (B, C), over the cache."""
    attn = block.attn
    batch = h.shape[0]
    heads, head_dim = attn.num_heads, attn.head_dim
    stacked = _affine(h, qkv.weight, qkv.bias)  # (B, 3C)
    q, k, v = stacked.reshape(batch, 3, heads, 1, head_dim).transpose(
        1, 0, 2, 3, 4
    )  # (B, 3C) -> (B, 3, H, 1, hd) -> 3 x (B, H, 1, hd)
    keys, values = cache.append(k, v)
    # one query at the end of the sequence may attend every cached key: no mask
    y = attention_forward.forward(
        q, keys, values, bias_t=None, scale=1.0 / math.sqrt(head_dim), dropout_p=0.0
    )[0]  # (B, H, 1, hd)
    return _linear(attn.out_proj, y.reshape(batch, heads * head_dim))  # (B, H, 1, hd) -> (B, C)


def decode_step(
    model: GPT, tokens: np.ndarray, caches: list[KVCache], qkv: list[QKV]
) -> np.ndarray:
    """Logits (B, V) of the position after the cached ones, for ``tokens`` (B,) int64;
    ``qkv`` holds each block's stacked projections (``QKV(block)``)."""
    position = caches[0].length
    x = model.token_embedding.weight.data[tokens]  # (B,) -> (B, C)
    x = x + model.position_embedding.weight.data[position]  # (B, C) + (C,)
    for block, cache, stacked in zip(model.blocks, caches, qkv):
        x = x + _attention(block, stacked, _norm(block.ln1, x), cache)  # (B, C)
        hidden = gelu_op.forward(
            _linear(block.mlp.linear1, _norm(block.ln2, x)), approximate="tanh"
        )[0]  # (B, 4C)
        x = x + _linear(block.mlp.linear2, hidden)  # (B, C)
    return _linear(model.lm_head, _norm(model.ln_f, x))  # (B, C) -> (B, V)
