"""The decoding kernel: ``generate``'s cached step on arrays instead of through the modules.

A cached step pushes T new positions per sequence (the prompt when the cache is filled,
then one token at a time) through every block. Through the modules (the reference:
``MultiHeadAttention.forward(cache=)``, ``GPT.hidden_states(caches)``) that is about 86
small ops of ~10 us of Python each (Tensor wrapping, graph checks, argument checks), so
at batch 1 a step is bound by Python, not arithmetic. This kernel runs the same
computation on ndarrays: the forwards of the ops the modules use (``layer_norm``,
``gelu``, ``scaled_dot_product_attention``: each op's kernel where one is installed, its
reference otherwise) called directly, and the ``linear`` op's two lines of arithmetic,
wired exactly as ``TransformerBlock.forward`` and ``MultiHeadAttention.forward`` wire
them, with no Tensors and no graph. The residual stream stays 2-D, (B * T, C) rows, so
every product is one 2-D GEMM, and the q, k and v projections are stacked into one
product. It is only used for inference (``generation.CachedDecoder``, which never
applies dropout), and tests/test_kernels_generation.py checks it against the module
path token for token. ``ArrayDecoder.logits`` is the same computation without a cache
for every position: GPT's forward kernel runs it under ``no_grad`` (kernels/sharded.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from gradstack.attention import KVCache
from gradstack.layers import Linear
from gradstack.tensor import get_op

from ..generation import register_decoding_kernel
from ..normalization import LayerNorm

if TYPE_CHECKING:
    from ..block import TransformerBlock
    from ..gpt import GPT


def _fastest(op_name: str) -> Callable[..., tuple[np.ndarray, Any]]:
    """The forward an op runs with kernels on: its kernel's, else its reference's."""
    op = get_op(op_name)
    return op.forward if op.kernel is None else op.kernel.forward


def _affine(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """``x @ W.T + b`` for rows x (N, in): the arithmetic of the ``linear`` op without its
    argument checks and batch folding (the shapes were fixed when the model was built;
    at one position per sequence those checks were a third of a product's cost)."""
    out = np.matmul(x, weight.T)
    if bias is not None:
        out += bias
    return out


def _linear(layer: Linear, x: np.ndarray) -> np.ndarray:
    """A Linear layer on rows x (N, in) -> (N, out)."""
    return _affine(x, layer.weight.data, None if layer.bias is None else layer.bias.data)


class QKV:
    """A block's q, k and v projections stacked into one (3C, C) weight: one product per
    step instead of three. Stacked once per generation (weights do not change then)."""

    def __init__(self, block: TransformerBlock) -> None:
        projections = (block.attn.q_proj, block.attn.k_proj, block.attn.v_proj)
        self.weight = np.concatenate([p.weight.data for p in projections])  # (3C, C)
        biases = [p.bias for p in projections]
        self.bias = None if biases[0] is None else np.concatenate([b.data for b in biases])


class ArrayDecoder:
    """The cached decoding step of one model on arrays: ``step(tokens, caches) -> logits``."""

    def __init__(self, model: GPT) -> None:
        self.model = model
        self.qkv = [QKV(block) for block in model.blocks]
        self.layer_norm = _fastest("layer_norm")
        self.gelu = _fastest("gelu")
        self.attention = _fastest("scaled_dot_product_attention")

    def _norm(self, layer: LayerNorm, x: np.ndarray) -> np.ndarray:
        """LayerNorm over the last dims with the layer's gain and shift."""
        ndim = len(layer.normalized_shape)
        return self.layer_norm(x, layer.gamma.data, layer.beta.data, ndim=ndim, eps=layer.eps)[0]

    def _attention(
        self, block: TransformerBlock, qkv: QKV, h: np.ndarray, cache: KVCache | None, batch: int
    ) -> np.ndarray:
        """Causal multi-head attention of T new positions per sequence, h (B * T, C) rows,
        over the cached ones: each new query sees every cached key and the new keys up to
        its own position (bottom-right aligned causal mask). No cache: the T positions."""
        attn = block.attn
        length = h.shape[0] // batch
        heads, head_dim = attn.num_heads, attn.head_dim
        stacked = _affine(h, qkv.weight, qkv.bias)  # (B * T, 3C)
        q, k, v = stacked.reshape(batch, length, 3, heads, head_dim).transpose(
            2, 0, 3, 1, 4
        )  # (B * T, 3C) -> (B, T, 3, H, hd) -> 3 x (B, H, T, hd)
        keys, values = (k, v) if cache is None else cache.append(k, v)  # (B, H, L, hd)
        y = self.attention(
            q,
            keys,
            values,
            mask=None,
            is_causal=True,
            scale=1.0 / math.sqrt(head_dim),
            dropout_p=0.0,
        )[0]  # (B, H, T, hd)
        rows = y.transpose(0, 2, 1, 3).reshape(batch * length, heads * head_dim)  # (B * T, C)
        return _linear(attn.out_proj, rows)  # (B * T, C)

    def _residual(self, tokens: np.ndarray, caches: list[KVCache] | None) -> np.ndarray:
        """The residual stream (B * T, C) after every block, for ``tokens`` (B, T)."""
        model = self.model
        batch, length = tokens.shape
        start = 0 if caches is None else caches[0].length
        positions = model.position_embedding.weight.data[start : start + length]  # (T, C)
        x = model.token_embedding.weight.data[tokens] + positions  # (B, T, C)
        x = x.reshape(batch * length, -1)  # (B, T, C) -> (B * T, C) rows
        for block, cache, stacked in zip(model.blocks, caches or [None] * len(self.qkv), self.qkv):
            x = x + self._attention(block, stacked, self._norm(block.ln1, x), cache, batch)
            hidden = self.gelu(
                _linear(block.mlp.linear1, self._norm(block.ln2, x)), approximate="tanh"
            )[0]  # (B * T, 4C)
            x = x + _linear(block.mlp.linear2, hidden)  # (B * T, C)
        return x

    def step(self, tokens: np.ndarray, caches: list[KVCache]) -> np.ndarray:
        """Logits (B, V) after ``tokens`` (B, T) int64, which continue the cached positions
        and are appended to the caches."""
        batch, length = tokens.shape
        x = self._residual(tokens, caches)
        last = x.reshape(batch, length, -1)[:, -1]  # (B * T, C) -> (B, C), the last position
        return _linear(self.model.lm_head, self._norm(self.model.ln_f, last))  # (B, V)

    def logits(self, tokens: np.ndarray) -> np.ndarray:
        """Logits (B, T, V) of every position of ``tokens`` (B, T) int64, no cache."""
        batch, length = tokens.shape
        x = self._norm(self.model.ln_f, self._residual(tokens, None))  # (B * T, C)
        return _linear(self.model.lm_head, x).reshape(batch, length, -1)  # (B, T, V)


def array_decoding_step(model: GPT) -> Callable[[np.ndarray, list[KVCache]], np.ndarray]:
    """The kernel ``generation.CachedDecoder`` runs: ``step(tokens, caches) -> logits``."""
    return ArrayDecoder(model).step


register_decoding_kernel(array_decoding_step)
