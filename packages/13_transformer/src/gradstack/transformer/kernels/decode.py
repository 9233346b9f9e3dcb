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
every product is one 2-D GEMM against a contiguous (in, out) copy of the weight made once
(``Dense``: several times faster for a few rows) with the preceding LayerNorm's gain and
shift folded in, and the q, k and v projections are stacked into one product. It is only
used for inference (``generation.CachedDecoder``, which never applies dropout), and
tests/test_kernels_generation.py checks it against the module path token for token.
``ArrayDecoder.logits`` is the same computation without a cache for every position: GPT's
forward kernel runs it under ``no_grad`` (kernels/sharded.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from gradstack.attention import KVCache
from gradstack.layers import Linear
from gradstack.tensor import get_op, row_blocks

from ..generation import register_decoding_kernel
from ..normalization import LayerNorm
from .layer_norm import normalize_rows

if TYPE_CHECKING:
    from ..block import TransformerBlock
    from ..gpt import GPT


def _fastest(op_name: str) -> Callable[..., tuple[np.ndarray, Any]]:
    """The forward an op runs with kernels on: its kernel's, else its reference's."""
    op = get_op(op_name)
    return op.forward if op.kernel is None else op.kernel.forward


def _affine(x: np.ndarray, dense: Dense) -> np.ndarray:
    """``x @ W.T + b`` for rows x (N, in), with the map's (in, out) weight: the arithmetic
    of the ``linear`` op without its argument checks and batch folding (the shapes were
    fixed when the model was built; at one position per sequence those checks were a
    third of a product's cost)."""
    out = np.matmul(x, dense.weight_t)  # (N, in) @ (in, out)
    if dense.bias is not None:
        out += dense.bias
    return out


class Dense:
    """A linear map kept as a C-contiguous (in, out) weight and a bias, copied once.

    OpenBLAS multiplies a few rows by a contiguous (in, out) matrix several times faster
    than by the transposed view of an (out, in) one: (8, 128) rows by a 128 -> 384 map
    took 5.5 us against 24.5 us, and 2.2 against 3.1 us for one row (8 rows: a batch-8
    decoding step). The copy is made once per ``generate`` (weights do not change then).
    A whole-sequence forward (``ArrayDecoder.logits``, thousands of rows) gains 4-10% per
    product that way, about what the copy costs at each call, so it keeps the views.

    With ``norm``, the LayerNorm that feeds the map is folded in: ``(xhat * g + b) @ W.T`` is
    ``xhat @ (W * g).T + W @ b``, so the decoder only standardizes its rows.
    """

    def __init__(
        self,
        weights: list[np.ndarray],
        biases: list[np.ndarray | None],
        contiguous: bool,
        norm: LayerNorm | None = None,
    ) -> None:
        """Stack the (out, in) ``weights`` (and biases) of maps that share their input."""
        stacked = weights[0] if len(weights) == 1 else np.concatenate(weights)  # (outs, in)
        self.bias = None if biases[0] is None else np.concatenate(biases)
        if norm is not None:
            gain, shift = norm.gamma.data.reshape(-1), norm.beta.data.reshape(-1)  # (in,)
            shifted = stacked @ shift  # (outs,): what beta adds to every row
            self.bias = shifted if self.bias is None else self.bias + shifted
            stacked = stacked * gain  # a new (outs, in) array, column j scaled by gain[j]
        weight_t = stacked.T  # (in, outs), a view
        self.weight_t = np.ascontiguousarray(weight_t) if contiguous else weight_t

    @classmethod
    def of(cls, *layers: Linear, contiguous: bool, norm: LayerNorm | None = None) -> Dense:
        """One map for ``layers`` (q, k and v stacked into one (C, 3C) product)."""
        return cls(
            [layer.weight.data for layer in layers],
            [None if layer.bias is None else layer.bias.data for layer in layers],
            contiguous,
            norm,
        )


class BlockMaps:
    """A block's products as ``Dense`` maps: stacked q/k/v, output projection, MLP.

    ``fold`` folds ln1 into the q/k/v map and ln2 into the MLP's first map.
    """

    def __init__(self, block: TransformerBlock, contiguous: bool, fold: bool) -> None:
        attn = block.attn
        self.qkv = Dense.of(
            attn.q_proj,
            attn.k_proj,
            attn.v_proj,
            contiguous=contiguous,
            norm=block.ln1 if fold else None,
        )  # (C, 3C)
        self.out = Dense.of(attn.out_proj, contiguous=contiguous)
        self.up = Dense.of(
            block.mlp.linear1, contiguous=contiguous, norm=block.ln2 if fold else None
        )
        self.down = Dense.of(block.mlp.linear2, contiguous=contiguous)


FOLD_MIN_ROWS_PER_WIDTH = 2


def folding_pays(width: int, rows: int) -> bool:
    """Whether one forward over ``rows`` positions gains from folding the norms into the maps.

    Folding makes a scaled copy of each block's q/k/v and first MLP weight (7 C² values) and
    saves two passes over the rows at each of the block's two norms (4 rows C). Below about
    2 C rows the copies cost more than they save (width 256, batch 1, 128 positions).
    """
    return rows >= FOLD_MIN_ROWS_PER_WIDTH * width


def _standardized(x: np.ndarray, eps: float) -> np.ndarray:
    """``(x - mean) / sqrt(var + eps)`` over each row of x (N, C), a cache block of rows at a
    time: LayerNorm without its gain and shift, which the next map holds."""
    xhat = np.empty_like(x)
    rstd = np.empty(x.shape[0], dtype=x.dtype)
    for block in row_blocks(*x.shape):
        normalize_rows(x[block], xhat[block], rstd[block], eps)
    return xhat


class ArrayDecoder:
    """The cached decoding step of one model on arrays: ``step(tokens, caches) -> logits``.

    ``contiguous`` copies every weight into (in, out) order once (``Dense``): right for
    decoding, many steps of a few rows; a single whole-sequence forward passes False and
    keeps views. With ``fold`` (and every norm over the last dim), each LayerNorm's gain
    and shift are folded into the map after it, so the rows are only standardized; a
    whole-sequence forward folds only when ``folding_pays``.
    """

    def __init__(self, model: GPT, contiguous: bool = True, fold: bool = True) -> None:
        self.model = model
        norms = [model.ln_f] + [n for block in model.blocks for n in (block.ln1, block.ln2)]
        self.fold = fold and all(len(n.normalized_shape) == 1 for n in norms)
        self.maps = [BlockMaps(block, contiguous, self.fold) for block in model.blocks]
        final_norm = model.ln_f if self.fold else None
        self.lm_head = Dense.of(model.lm_head, contiguous=contiguous, norm=final_norm)
        self.layer_norm = _fastest("layer_norm")
        self.gelu = _fastest("gelu")
        self.attention = _fastest("scaled_dot_product_attention")

    def _norm(self, layer: LayerNorm, x: np.ndarray) -> np.ndarray:
        """LayerNorm over the last dims; only standardized when the next map holds its
        gain and shift (``self.fold``)."""
        if self.fold:
            return _standardized(x, layer.eps)  # gain and shift: in the next map
        ndim = len(layer.normalized_shape)
        return self.layer_norm(x, layer.gamma.data, layer.beta.data, ndim=ndim, eps=layer.eps)[0]

    def _attention(
        self,
        block: TransformerBlock,
        maps: BlockMaps,
        h: np.ndarray,
        cache: KVCache | None,
        batch: int,
    ) -> np.ndarray:
        """Causal multi-head attention of T new positions per sequence, h (B * T, C) rows,
        over the cached ones: each new query sees every cached key and the new keys up to
        its own position (bottom-right aligned causal mask). No cache: the T positions."""
        attn = block.attn
        length = h.shape[0] // batch
        heads, head_dim = attn.num_heads, attn.head_dim
        stacked = _affine(h, maps.qkv)  # (B * T, 3C)
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
        return _affine(rows, maps.out)  # (B * T, C)

    def _residual(self, tokens: np.ndarray, caches: list[KVCache] | None) -> np.ndarray:
        """The residual stream (B * T, C) after every block, for ``tokens`` (B, T)."""
        model = self.model
        batch, length = tokens.shape
        start = 0 if caches is None else caches[0].length
        positions = model.position_embedding.weight.data[start : start + length]  # (T, C)
        x = model.token_embedding.weight.data[tokens] + positions  # (B, T, C)
        x = x.reshape(batch * length, -1)  # (B, T, C) -> (B * T, C) rows
        for block, cache, maps in zip(model.blocks, caches or [None] * len(self.maps), self.maps):
            x = x + self._attention(block, maps, self._norm(block.ln1, x), cache, batch)
            up = _affine(self._norm(block.ln2, x), maps.up)  # (B * T, 4C)
            hidden = self.gelu(up, approximate="tanh")[0]
            x = x + _affine(hidden, maps.down)  # (B * T, C)
        return x

    def step(self, tokens: np.ndarray, caches: list[KVCache]) -> np.ndarray:
        """Logits (B, V) after ``tokens`` (B, T) int64, which continue the cached positions
        and are appended to the caches."""
        batch, length = tokens.shape
        x = self._residual(tokens, caches)
        last = x.reshape(batch, length, -1)[:, -1]  # (B * T, C) -> (B, C), the last position
        return _affine(self._norm(self.model.ln_f, last), self.lm_head)  # (B, V)

    def logits(self, tokens: np.ndarray) -> np.ndarray:
        """Logits (B, T, V) of every position of ``tokens`` (B, T) int64, no cache."""
        batch, length = tokens.shape
        x = self._norm(self.model.ln_f, self._residual(tokens, None))  # (B * T, C)
        return _affine(x, self.lm_head).reshape(batch, length, -1)  # (B, T, V)


def array_decoding_step(model: GPT) -> Callable[[np.ndarray, list[KVCache]], np.ndarray]:
    """The kernel ``generation.CachedDecoder`` runs: ``step(tokens, caches) -> logits``."""
    return ArrayDecoder(model).step


register_decoding_kernel(array_decoding_step)
