"""One MLP training step (forward + backward) in gradstack against the same step by hand.

The model is a 3-layer MLP, ``Linear(512, 512) -> ReLU -> Linear(512, 512) -> ReLU ->
Linear(512, 10)``, on a batch of 256 with an MSE loss, all float32. The NumPy version
writes the forward and the backward out by hand, with the same products a careful
person would use; it is the floor gradstack's autograd is measured against (goal: at
most 1.2x). Before timing, the hand-written gradients are checked against
gradstack's, so both sides do the same work.

The two steps are timed alternately, so load from other processes hits both alike;
the ratio reported is the median over repeats of the per-pair ratio.

    python bench/mlp_step.py [--batch 256] [--width 512] [--repeats 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from gradstack.activations import ReLU
from gradstack.layers import Linear, Sequential
from gradstack.losses import mse_loss
from gradstack.tensor import Tensor, manual_seed

OUTPUTS = 10


def build(batch: int, width: int, seed: int = 0) -> tuple[Sequential, np.ndarray, np.ndarray]:
    """The gradstack model and a float32 batch of inputs and regression targets."""
    manual_seed(seed)
    model = Sequential(
        Linear(width, width), ReLU(), Linear(width, width), ReLU(), Linear(width, OUTPUTS)
    )
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width), dtype=np.float32)
    y = rng.standard_normal((batch, OUTPUTS), dtype=np.float32)
    return model, x, y


def gradstack_step(model: Sequential, x: Tensor, y: Tensor) -> tuple[float, list[np.ndarray]]:
    """Zero the gradients, run forward and backward; return the loss and the gradients."""
    params = list(model.parameters())
    for p in params:
        p.grad = None
    loss = mse_loss(model(x), y)
    loss.backward()
    return loss.item(), [p.grad.data for p in params]


def numpy_step(
    params: list[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[float, list[np.ndarray]]:
    """The same step by hand: forward, MSE, and the backward pass written out."""
    w1, b1, w2, b2, w3, b3 = params
    h1 = x @ w1.T  # (B, in) @ (in, H) -> (B, H)
    h1 += b1
    a1 = np.maximum(h1, 0)
    h2 = a1 @ w2.T  # (B, H) @ (H, H) -> (B, H)
    h2 += b2
    a2 = np.maximum(h2, 0)
    out = a2 @ w3.T  # (B, H) @ (H, O) -> (B, O)
    out += b3
    diff = out - y
    loss = float(np.mean(diff * diff))
    g_out = diff * np.float32(2.0 / diff.size)
    g_w3 = g_out.T @ a2  # (O, B) @ (B, H) -> (O, H)
    g_b3 = g_out.sum(axis=0)
    g_h2 = g_out @ w3  # (B, O) @ (O, H) -> (B, H)
    g_h2 *= h2 > 0
    g_w2 = g_h2.T @ a1
    g_b2 = g_h2.sum(axis=0)
    g_h1 = g_h2 @ w2
    g_h1 *= h1 > 0
    g_w1 = g_h1.T @ x
    g_b1 = g_h1.sum(axis=0)
    return loss, [g_w1, g_b1, g_w2, g_b2, g_w3, g_b3]


def check_same_gradients(model: Sequential, x: np.ndarray, y: np.ndarray) -> None:
    """Assert that both steps compute the same loss and gradients (float32 tolerance)."""
    params = [p.data for p in model.parameters()]
    loss, grads = gradstack_step(model, Tensor(x), Tensor(y))
    expected_loss, expected = numpy_step(params, x, y)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-5)
    for name, (mine, reference) in zip(
        [n for n, _ in model.named_parameters()], zip(grads, expected)
    ):
        assert mine.shape == reference.shape, name
        assert mine.dtype == np.float32, name
        np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-6, err_msg=name)


def time_alternately(
    first: Callable[[], object], second: Callable[[], object], repeats: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Wall times of ``first`` and ``second``, run in alternating order."""
    for _ in range(warmup):
        first()
        second()
    times_first, times_second = [], []
    for i in range(repeats):
        order = ((first, times_first), (second, times_second))
        for fn, times in order if i % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return times_first, times_second


def main(argv: list[str] | None = None) -> float:
    """Check, time and print; return the ratio gradstack / NumPy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args(argv)

    model, x, y = build(args.batch, args.width)
    check_same_gradients(model, x, y)
    params = [p.data for p in model.parameters()]
    xt, yt = Tensor(x), Tensor(y)
    ours, theirs = time_alternately(
        lambda: gradstack_step(model, xt, yt),
        lambda: numpy_step(params, x, y),
        args.repeats,
        args.warmup,
    )
    ratio = statistics.median(a / b for a, b in zip(ours, theirs))
    print(
        f"MLP step, batch {args.batch}, width {args.width}, 3 layers, ReLU, MSE, float32; "
        f"median of {args.repeats}"
    )
    print("gradients: gradstack == hand-written NumPy (allclose)")
    print(f"gradstack : {statistics.median(ours) * 1e3:8.3f} ms")
    print(f"numpy     : {statistics.median(theirs) * 1e3:8.3f} ms")
    print(f"ratio     : {ratio:8.3f}x (goal <= 1.2x)")
    return ratio


if __name__ == "__main__":
    main()
