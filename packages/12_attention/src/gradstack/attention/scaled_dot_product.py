"""Scaled dot-product attention as one op with its own gradient rule: the reference.

For queries q (..., Lq, d), keys k (..., Lk, d) and values v (..., Lk, dv):

    S   = scale · q kᵀ + bias        (..., Lq, Lk)   bias: 0 = may attend, -inf = blocked
    P   = softmax(S) over the keys    (..., Lq, Lk)   each row sums to 1 (0 if all blocked)
    W   = P · keep / (1 - p)          only with dropout: keep is True with probability 1 - p
    out = W v                         (..., Lq, dv)

The rule follows the same formulas backwards, with g = dL/d(out) (..., Lq, dv):

    dv = Wᵀ g                         (..., Lk, dv)
    dW = g vᵀ,   dP = dW · keep / (1 - p)
    dS = P · (dP - Σ_k P dP)           the softmax's backward, row by row
    dq = scale · dS k,   dk = scale · dSᵀ q

As one op, attention keeps only P (and the dropout mask) for the backward instead of
the graph of every intermediate. Batch dims of q, k and v broadcast as in np.matmul
(k and v may be shared by all heads); the engine sums the gradients back to each
input's shape. This file is the textbook algorithm; the tuned kernel of the same op,
checked equal to it by tests/test_kernels.py, is in ``kernels.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradstack.autograd import register_rule
from gradstack.tensor import (
    Node,
    Tensor,
    apply,
    check_probability,
    default_generator,
    register_op,
)

from .masks import attention_bias, mask_array

OP = "scaled_dot_product_attention"


def softmax_over_keys(scores: np.ndarray) -> np.ndarray:
    """softmax(scores) over the last axis (..., Lq, Lk); a row that is all -inf gives zeros."""
    # HINT: exp of a large score overflows: shift each row by its maximum first (the result
    # HINT: is the same, and every exponent is then <= 0). A query whose keys are all blocked
    # HINT: has a row of -inf: its maximum is -inf and -inf - (-inf) is NaN, so shift such a
    # HINT: row by 0 instead, and divide its all-zero row by 1 instead of by its sum of 0.
    # HINT: Test: test_fully_masked_rows_give_zeros_without_warnings.
    # BEGIN SOLUTION
    peak = np.max(scores, axis=-1, keepdims=True)  # (..., Lq, 1)
    peak = np.where(np.isneginf(peak), 0.0, peak)  # a row with every key blocked
    exps = np.exp(scores - peak)  # (..., Lq, Lk), each in [0, 1]
    total = np.sum(exps, axis=-1, keepdims=True)  # (..., Lq, 1)
    return exps / np.where(total == 0.0, 1.0, total)
    # END SOLUTION


@register_op(OP)
def scaled_dot_product_attention_op(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    *,
    mask: np.ndarray | None,
    is_causal: bool,
    scale: float,
    dropout_p: float,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray | None]]:
    """out = dropout(softmax(scale · q kᵀ + bias)) v; saves (P, keep) for the rule.

    ``mask`` is boolean (True = may attend, broadcastable to (..., Lq, Lk)) or None;
    ``attention_bias(mask, is_causal, Lq, Lk, dtype)`` turns it and ``is_causal`` into
    the additive bias (or None). With ``dropout_p`` > 0, keep = (uniform float32 draws
    from ``default_generator()``, one per probability) < 1 - p; else keep is None.
    """
    # HINT: k.T would reverse every axis, the batch axes too: transpose only the last two.
    # HINT: Draw the dropout mask only when dropout_p > 0, so that dropout_p=0 leaves the
    # HINT: random stream untouched (test_dropout_zero_draws_nothing_and_changes_nothing).
    # BEGIN SOLUTION
    scores = scale * (q @ np.swapaxes(k, -1, -2))  # (..., Lq, d) @ (..., d, Lk) -> (..., Lq, Lk)
    bias = attention_bias(mask, is_causal, q.shape[-2], k.shape[-2], q.dtype)
    if bias is not None:
        scores = scores + bias  # -inf where a query may not look
    probs = softmax_over_keys(scores)  # (..., Lq, Lk)
    keep = None
    weights = probs
    if dropout_p > 0.0:
        keep = default_generator().random(probs.shape, dtype=np.float32) < 1.0 - dropout_p
        weights = probs * keep / (1.0 - dropout_p)  # (..., Lq, Lk)
    out = weights @ v  # (..., Lq, Lk) @ (..., Lk, dv) -> (..., Lq, dv)
    return out, (probs, keep)
    # END SOLUTION


@register_rule(OP)
def scaled_dot_product_attention_backward(g: np.ndarray, node: Node) -> tuple[Any, Any, Any]:
    """Gradients (dq, dk, dv) from g (..., Lq, dv) and the saved (P, keep)."""
    # HINT: node.inputs are the q, k, v Tensors (use .data), node.attrs the forward's keyword
    # HINT: arguments. Redo the dropout on P to get W, as in the forward. The softmax's
    # HINT: backward subtracts, in each row, the P-weighted average of dP (a sum over the
    # HINT: keys, keepdims=True); a blocked key has P = 0, so it gets no gradient.
    # HINT: Tests: tests/test_sdpa_gradients.py (finite differences).
    # BEGIN SOLUTION
    q, k, v = (t.data for t in node.inputs)
    probs, keep = node.saved
    scale = node.attrs["scale"]
    dropout_p = node.attrs["dropout_p"]
    weights = probs if keep is None else probs * keep / (1.0 - dropout_p)  # (..., Lq, Lk)
    dv = np.swapaxes(weights, -1, -2) @ g  # (..., Lk, Lq) @ (..., Lq, dv) -> (..., Lk, dv)
    d_weights = g @ np.swapaxes(v, -1, -2)  # (..., Lq, dv) @ (..., dv, Lk) -> (..., Lq, Lk)
    d_probs = d_weights if keep is None else d_weights * keep / (1.0 - dropout_p)
    d_scores = probs * (d_probs - np.sum(probs * d_probs, axis=-1, keepdims=True))
    dq = scale * (d_scores @ k)  # (..., Lq, Lk) @ (..., Lk, d) -> (..., Lq, d)
    dk = scale * (np.swapaxes(d_scores, -1, -2) @ q)  # (..., Lk, Lq) @ (..., Lq, d)
    return dq, dk, dv
    # END SOLUTION


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
    if not isinstance(is_causal, (bool, np.bool_)):
        raise TypeError(f"{OP}: is_causal must be True or False, got {is_causal!r}")
    return apply(
        scaled_dot_product_attention_op,
        q,
        k,
        v,
        mask=None if mask is None else mask_array(OP, mask, scores_shape),
        is_causal=bool(is_causal),
        scale=_check_scale(scale, q.shape[-1]),
        dropout_p=check_probability(OP, "dropout_p", dropout_p),
    )
