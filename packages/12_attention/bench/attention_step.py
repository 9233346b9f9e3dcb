"""Time the attention op, forward and backward, through the gradstack API.

This times the kernel; with GRADSTACK_KERNELS=0 it times the reference.

Run: python packages/12_attention/bench/attention_step.py
Shape B=16, H=8, L=128, d=32 in float32 (a small GPT's attention). Times are the
minimum over repeats, wall clock and CPU (the CPU time is steadier on a shared machine).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from gradstack.attention import scaled_dot_product_attention
from gradstack.tensor import Tensor, manual_seed, no_grad


def best_ms(fn: Callable[[], object], repeats: int = 30) -> tuple[float, float]:
    """Minimum wall-clock and CPU milliseconds of one call."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - w)
        cpu = min(cpu, time.process_time() - c)
    return wall * 1e3, cpu * 1e3


def main(batch: int = 16, heads: int = 8, length: int = 128, dim: int = 32) -> None:
    """Print forward-only and forward+backward times for a few settings."""
    manual_seed(0)
    rng = np.random.default_rng(0)
    shape = (batch, heads, length, dim)
    q, k, v = (Tensor(rng.standard_normal(shape), requires_grad=True) for _ in range(3))
    upstream = np.ones(shape, dtype=np.float32)
    print(f"B={batch} H={heads} L={length} d={dim} float32; ms as wall / cpu (min)")
    for label, options in [
        ("no mask", {}),
        ("is_causal", {"is_causal": True}),
        ("is_causal, dropout 0.1", {"is_causal": True, "dropout_p": 0.1}),
    ]:

        def forward(options: dict = options) -> None:
            with no_grad():
                scaled_dot_product_attention(q, k, v, **options)

        def step(options: dict = options) -> None:
            scaled_dot_product_attention(q, k, v, **options).backward(upstream)

        fwd = best_ms(forward)
        both = best_ms(step)
        print(
            f"{label:24s} forward {fwd[0]:6.2f} / {fwd[1]:6.2f}   "
            f"forward+backward {both[0]:6.2f} / {both[1]:6.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
