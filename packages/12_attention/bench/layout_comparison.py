"""The experiment behind the attention kernel's layout: scores query-first or keys-first.

Run: OPENBLAS_NUM_THREADS=1 python packages/12_attention/bench/layout_comparison.py
Both layouts compute the same attention (checked below); "rows" stores the scores as
(..., Lq, Lk) = q @ kᵀ and reduces over axis -1, "cols" stores (..., Lk, Lq) = k @ qᵀ
and reduces over axis -2. Masks are applied either by a masked copy of -inf or by
adding a contiguous 0/-inf bias. Minimum CPU ms over repeats, B=16 H=8 L=128 d=32.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

B, H, L, D = 16, 8, 128, 32
RNG = np.random.default_rng(0)
Q, K, V, G = (RNG.standard_normal((B, H, L, D)).astype(np.float32) for _ in range(4))
SCALE = np.float32(1 / np.sqrt(D))
ALLOWED = np.tri(L, dtype=bool)
BIAS = np.where(ALLOWED, np.float32(0), np.float32(-np.inf))
BIAS_T = np.ascontiguousarray(BIAS.T)


def swap(a: np.ndarray) -> np.ndarray:
    """Swap the last two axes (a view)."""
    return np.swapaxes(a, -1, -2)


def softmax(s: np.ndarray, axis: int, masked: bool) -> np.ndarray:
    """In-place stable softmax over ``axis``; fully masked slices become zeros."""
    peak = s.max(axis=axis, keepdims=True)
    if masked:
        peak[np.isneginf(peak)] = 0
    np.subtract(s, peak, out=s)
    np.exp(s, out=s)
    total = s.sum(axis=axis, keepdims=True)
    if masked:
        total[total == 0] = 1
    np.reciprocal(total, out=total)
    return np.multiply(s, total, out=s)


def forward_rows(mask: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Scores (..., Lq, Lk)."""
    s = np.matmul(Q * SCALE, swap(K))
    if mask == "copyto":
        np.copyto(s, -np.inf, where=~ALLOWED)
    elif mask == "bias":
        s += BIAS
    p = softmax(s, -1, mask is not None)
    return np.matmul(p, V), p


def backward_rows(p: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, ...]:
    """Gradients from query-first probabilities."""
    dv = np.matmul(swap(p), G)
    ds = np.matmul(G, swap(V))
    ds -= np.sum(G * o, axis=-1, keepdims=True)
    ds *= p
    return np.matmul(ds, K) * SCALE, np.matmul(swap(ds), Q) * SCALE, dv


def forward_cols(mask: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Scores (..., Lk, Lq)."""
    s = np.matmul(K, swap(Q * SCALE))
    if mask == "copyto":
        np.copyto(s, -np.inf, where=~ALLOWED.T)
    elif mask == "bias":
        s += BIAS_T
    p = softmax(s, -2, mask is not None)
    return np.matmul(swap(p), V), p


def backward_cols(p: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, ...]:
    """Gradients from keys-first probabilities."""
    dv = np.matmul(p, G)
    ds = np.matmul(V, swap(G))
    ds -= np.sum(G * o, axis=-1)[..., None, :]
    ds *= p
    return np.matmul(swap(ds), K) * SCALE, np.matmul(ds, Q) * SCALE, dv


def best_ms(fn: Callable[..., object], *args: object, repeats: int = 10) -> float:
    """Minimum CPU milliseconds of one call ``fn(*args)``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn(*args)
        best = min(best, time.process_time() - start)
    return best * 1e3


def main(rounds: int = 5) -> None:
    """Interleave the variants for several rounds and keep each one's best time."""
    variants = {
        (layout, mask): (fwd, bwd)
        for layout, fwd, bwd in (
            ("rows", forward_rows, backward_rows),
            ("cols", forward_cols, backward_cols),
        )
        for mask in (None, "copyto", "bias")
    }
    o_rows, p_rows = forward_rows("bias")
    o_cols, p_cols = forward_cols("bias")
    np.testing.assert_allclose(o_rows, o_cols, atol=1e-5)
    for a, b in zip(backward_rows(p_rows, o_rows), backward_cols(p_cols, o_cols)):
        np.testing.assert_allclose(a, b, atol=1e-4)
    best: dict[tuple[str, str | None], list[float]] = {}
    for _ in range(rounds):
        for key, (fwd, bwd) in variants.items():
            out, probs = fwd(key[1])
            times = [best_ms(fwd, key[1]), best_ms(bwd, probs, out)]
            old = best.get(key, [float("inf")] * 2)
            best[key] = [min(a, b) for a, b in zip(old, times)]
    print(f"B={B} H={H} L={L} d={D} float32, min CPU ms")
    for (layout, mask), (fwd_ms, bwd_ms) in best.items():
        print(f"{layout} mask={mask!s:7s} forward {fwd_ms:5.2f}  backward {bwd_ms:5.2f}")


if __name__ == "__main__":
    main()
