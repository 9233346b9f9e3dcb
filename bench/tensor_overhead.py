"""Measure the Python overhead of gradstack.tensor ops over the raw NumPy call.

For each op the raw NumPy call, the Tensor op and the Tensor op on an input that
requires grad (so a Node is recorded) are timed one after the other, ``--number``
calls each, in ``--rounds`` rounds that cycle through all ops. The overhead is the
median over rounds of (Tensor time - NumPy time) per call: short timings rarely
contain a preemption, and the ones that do are outvoted. Two sizes are measured:
100k-element tensors (the case the module promises a few microseconds for) and
4-element tensors, where NumPy costs almost nothing and the Python cost stands alone.
Not a test: run it and read the numbers.

    python bench/tensor_overhead.py [--rounds 500] [--number 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

try:
    from gradstack.tensor import Tensor
except ImportError:  # not installed: use the source tree next to this script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages/01_tensor/src"))
    from gradstack.tensor import Tensor

Call = Callable[[], object]


def cases(rows: int, cols: int) -> list[tuple[str, Call, Call, Call]]:
    """(name, NumPy call, Tensor call, Tensor call with requires_grad) for each op."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, cols), dtype=np.float32)
    y = rng.standard_normal((rows, cols), dtype=np.float32)
    w = rng.standard_normal((cols, 8), dtype=np.float32)
    a, b, wt = Tensor(x), Tensor(y), Tensor(w)
    ag = Tensor(x, requires_grad=True)
    flat = (cols, rows)
    swap = (-2, -1)
    return [
        ("a + b", lambda: x + y, lambda: a + b, lambda: ag + b),
        ("a * 2.0", lambda: x * 2.0, lambda: a * 2.0, lambda: ag * 2.0),
        ("a.sum(-1)", lambda: x.sum(-1), lambda: a.sum(-1), lambda: ag.sum(-1)),
        ("a.reshape", lambda: x.reshape(flat), lambda: a.reshape(flat), lambda: ag.reshape(flat)),
        ("a.transpose()", lambda: x.swapaxes(*swap), lambda: a.transpose(), lambda: ag.transpose()),
        ("a[1:3]", lambda: x[1:3], lambda: a[1:3], lambda: ag[1:3]),
        ("a.exp()", lambda: np.exp(x), lambda: a.exp(), lambda: ag.exp()),
        ("a @ w", lambda: x @ w, lambda: a @ wt, lambda: ag @ wt),
    ]


def per_call(fn: Call, number: int) -> float:
    """Seconds per call of ``fn``, averaged over ``number`` calls after one warm-up call."""
    fn()
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def measure(
    table: list[tuple[str, Call, Call, Call]], rounds: int, number: int
) -> list[dict[str, float]]:
    """Median NumPy time and median overheads (µs per call) for every op of ``table``.

    Rounds are the outer loop and ops the inner one, so a burst of load from other
    processes falls on every op alike rather than on whichever op was being timed;
    within a round the three calls take turns going first.
    """
    for _, *calls in table:  # warm up caches and the allocator
        for fn in calls:
            per_call(fn, number)
    raw_times: list[list[float]] = [[] for _ in table]
    plain_extra: list[list[float]] = [[] for _ in table]
    grad_extra: list[list[float]] = [[] for _ in table]
    for r in range(rounds):
        for i, (_, *calls) in enumerate(table):
            times = [0.0, 0.0, 0.0]
            for k in range(3):  # rotate which of the three goes first
                j = (r + k) % 3
                times[j] = per_call(calls[j], number)
            t_raw, t_plain, t_grad = times
            raw_times[i].append(t_raw)
            plain_extra[i].append(t_plain - t_raw)
            grad_extra[i].append(t_grad - t_raw)
    micro = 1e6
    return [
        {
            "numpy": statistics.median(raw_times[i]) * micro,
            "plain": statistics.median(plain_extra[i]) * micro,
            "grad": statistics.median(grad_extra[i]) * micro,
        }
        for i in range(len(table))
    ]


def report(title: str, rows: int, cols: int, rounds: int, number: int) -> None:
    """Print one table: op, NumPy time, overhead without and with requires_grad."""
    table = cases(rows, cols)
    print(f"\n{title}: float32 ({rows}, {cols}), w ({cols}, 8)")
    print(f"median of {rounds} rounds of {number} calls per op")
    print(f"{'op':<16}{'NumPy µs':>10}{'+ Tensor µs':>13}{'+ grad µs':>11}")
    for (name, *_), result in zip(table, measure(table, rounds, number)):
        print(f"{name:<16}{result['numpy']:>10.2f}{result['plain']:>13.2f}{result['grad']:>11.2f}")


def main() -> None:
    """Parse arguments and print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500, help="interleaved timing rounds")
    parser.add_argument("--number", type=int, default=20, help="calls per timing (100k case)")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}")
    report("100k elements", 100, 1000, args.rounds, args.number)
    report("4 elements (Python cost alone)", 2, 2, args.rounds, args.number * 10)


if __name__ == "__main__":
    main()
