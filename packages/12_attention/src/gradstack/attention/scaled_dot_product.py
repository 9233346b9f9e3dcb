"""Scaled dot-product attention as ONE fused op with an analytic backward.

    S = scale * q @ kᵀ            (..., Lq, Lk), -inf where attention is blocked
    P = softmax(S) over keys       rows with nothing to attend to are all zeros
    W = P * keep / (1 - p)         only when dropout_p > 0
    out = W @ v                    (..., Lq, dv)

The backward needs P (and the dropout mask) plus the output, nothing else:

    dv = Wᵀ @ g
    dW = g @ vᵀ,  dP = dW * keep / (1 - p)
    dS = P * (dP - rowsum),  rowsum = sum_k P dP = sum(g * out, -1)   (FlashAttention's trick:
                                                                      an O(Lq d) product
                                                                      instead of an Lq x Lk one)
    dq = scale * dS @ k,  dk = scale * dSᵀ @ q

so the backward allocates one (..., Lq, Lk) array, reused in place. The softmax is
computed in place (subtract the row max, exp, multiply by the reciprocal of the sum).
Batch dims of q, k and v broadcast as in np.matmul (k and v may be shared by all heads);
the engine sums the gradients back to each input's shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradstack.autograd import register_rule
from gradstack.tensor import Node, Tensor, apply, default_generator, register_op

from .masks import blocked_positions

OP = "scaled_dot_product_attention"


def _softmax_over_keys(scores: np.ndarray, masked: bool) -> np.ndarray:
    """Softmax of ``scores`` over its last axis, in place; fully blocked rows become zeros."""
    peak = scores.max(axis=-1, keepdims=True)  # (..., Lq, 1)
    if masked:
        peak[np.isneginf(peak)] = 0.0  # a row of -inf: keep it -inf, avoid -inf - -inf
    np.subtract(scores, peak, out=scores)
    np.exp(scores, out=scores)
    total = scores.sum(axis=-1, keepdims=True)  # (..., Lq, 1)
    if masked:
        total[total == 0.0] = 1.0  # nothing to attend to: 0 / 1 = 0, no NaN
    np.reciprocal(total, out=total)
    np.multiply(scores, total, out=scores)
    return scores


def _dropout_scale(keep: np.ndarray, dropout_p: float, dtype: np.dtype) -> np.ndarray:
    """keep / (1 - p) in ``dtype``: the factor dropout multiplies the probabilities by."""
    factor = keep.astype(dtype)
    factor *= dtype.type(1.0 / (1.0 - dropout_p))
    return factor


@register_op(OP)
def attention_forward(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    *,
    blocked: np.ndarray | None,
    scale: float,
    dropout_p: float,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray | None, np.ndarray]]:
    """softmax(scale q kᵀ, blocked -> -inf) @ v, with dropout on the probabilities."""
    scaled_q = q * q.dtype.type(scale)  # scale the (Lq, d) side, not the (Lq, Lk) scores
    scores = np.matmul(scaled_q, np.swapaxes(k, -1, -2))  # (..., Lq, d) @ (..., d, Lk)
    if blocked is not None:
        np.copyto(scores, -np.inf, where=blocked)
    probs = _softmax_over_keys(scores, masked=blocked is not None)
    keep = None
    weights = probs
    if dropout_p > 0.0:
        keep = default_generator().random(probs.shape, dtype=np.float32) < 1.0 - dropout_p
        weights = probs * _dropout_scale(keep, dropout_p, probs.dtype)
    out = np.matmul(weights, v)  # (..., Lq, Lk) @ (..., Lk, dv) -> (..., Lq, dv)
    return out, (probs, keep, out)


@register_rule(OP)
def attention_backward(g: np.ndarray, node: Node) -> tuple[Any, Any, Any]:
    """Gradients of q, k, v from the saved probabilities, dropout mask and output."""
    q, k, v = (t.data for t in node.inputs)
    probs, keep, out = node.saved
    scale = node.attrs["scale"]
    dropout_p = node.attrs["dropout_p"]
    need_q, need_k, need_v = node.needs_input_grad
    factor = None if keep is None else _dropout_scale(keep, dropout_p, probs.dtype)
    dv = None
    if need_v:
        weights = probs if factor is None else probs * factor
        dv = np.matmul(np.swapaxes(weights, -1, -2), g)  # (..., Lk, Lq) @ (..., Lq, dv)
    if not (need_q or need_k):
        return None, None, dv
    d_scores = np.matmul(g, np.swapaxes(v, -1, -2))  # dW: (..., Lq, dv) @ (..., dv, Lk)
    if factor is not None:
        np.multiply(d_scores, factor, out=d_scores)  # dP = dW * keep / (1 - p)
    rowsum = np.sum(g * out, axis=-1, keepdims=True)  # sum_k P dP, (..., Lq, 1)
    np.subtract(d_scores, rowsum, out=d_scores)
    np.multiply(d_scores, probs, out=d_scores)  # dS, zero wherever P is zero
    dq = np.matmul(d_scores, k) * q.dtype.type(scale) if need_q else None
    dk = None
    if need_k:
        dk = np.matmul(np.swapaxes(d_scores, -1, -2), q)  # (..., Lk, Lq) @ (..., Lq, d)
        dk *= k.dtype.type(scale)
    return dq, dk, dv


def _check_qkv(q: Any, k: Any, v: Any) -> tuple[int, ...]:
    """Check q (..., Lq, d), k (..., Lk, d), v (..., Lk, dv); return the scores' shape."""
    for name, value in (("q", q), ("k", k), ("v", v)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{OP}: {name} must be a Tensor, got {type(value).__name__}")
        if value.dtype.kind != "f":
            raise TypeError(f"{OP}: {name} must be floating point, got dtype {value.dtype}")
        if value.ndim < 2:
            raise ValueError(f"{OP}: {name} must be (..., L, d), got shape {value.shape}")
    shapes = f"q {q.shape}, k {k.shape}, v {v.shape}"
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(f"{OP}: q, k, v must share a dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{OP}: q and k must have the same last dim d, got {shapes}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{OP}: k and v must have the same length Lk (dim -2), got {shapes}")
    if k.shape[-2] == 0:
        raise ValueError(f"{OP}: needs at least one key, got {shapes}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"{OP}: batch dims of {shapes} cannot be broadcast together") from None
    return batch + (q.shape[-2], k.shape[-2])


def _check_dropout(dropout_p: Any) -> float:
    """Dropout probability in [0, 1)."""
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, (int, float, np.number)):
        raise TypeError(f"{OP}: dropout_p must be a number, got {type(dropout_p).__name__}")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{OP}: dropout_p must be in [0, 1), got {dropout_p}")
    return float(dropout_p)


def _check_scale(scale: Any, head_dim: int) -> float:
    """The score scale: 1 / sqrt(d) by default, else a finite number."""
    if scale is None:
        return 1.0 / math.sqrt(head_dim) if head_dim else 1.0
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.number)):
        raise TypeError(f"{OP}: scale must be a number or None, got {type(scale).__name__}")
    if not math.isfinite(scale):
        raise ValueError(f"{OP}: scale must be finite, got {scale}")
    return float(scale)


def scaled_dot_product_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Any = None,
    is_causal: bool = False,
    dropout_p: float = 0.0,
    scale: float | None = None,
) -> Tensor:
    """softmax(q kᵀ * scale + mask) @ v for q (..., Lq, d), k (..., Lk, d), v (..., Lk, dv).

    ``mask`` is boolean, True = may attend, broadcastable to (..., Lq, Lk);
    ``is_causal`` lets query i attend keys j <= i + Lk - Lq (bottom-right aligned, see
    ``masks``); both together combine. A query with nothing to attend to gets zeros.
    ``dropout_p`` > 0 drops probabilities (the caller passes 0 outside training).
    """
    scores_shape = _check_qkv(q, k, v)
    blocked = blocked_positions(OP, mask, is_causal, scores_shape)
    return apply(
        attention_forward,
        q,
        k,
        v,
        blocked=blocked,
        scale=_check_scale(scale, q.shape[-1]),
        dropout_p=_check_dropout(dropout_p),
    )
