"""End to end: a 2-layer MLP learns two moons and XOR with plain gradient descent.

Everything but the optimizer comes from gradstack (Linear, activations, losses,
autograd); the update is written out, ``p.data -= lr * p.grad.data`` under
``no_grad``, so the test depends on no optimizer package.
"""

from __future__ import annotations

import time

import numpy as np

from gradstack.activations import ReLU, sigmoid, tanh
from gradstack.layers import Linear, Module
from gradstack.losses import binary_cross_entropy, cross_entropy
from gradstack.tensor import Tensor, manual_seed, no_grad


def two_moons(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles with Gaussian noise, standardized; labels 0 and 1."""
    rng = np.random.default_rng(seed)
    half = n // 2
    angle = rng.uniform(0.0, np.pi, half)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (half, 2)
    lower = np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)  # (half, 2)
    points = np.concatenate([upper, lower]) + noise * rng.standard_normal((2 * half, 2))
    points = (points - [0.5, 0.25]) / [0.87, 0.5]  # roughly zero mean, unit spread
    labels = np.repeat(np.array([0, 1], dtype=np.int64), half)
    return points.astype(np.float32), labels


def xor_clusters(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points around the four corners of a square, labelled by XOR of the corner's bits."""
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, size=(n, 2))
    points = (2.0 * corners - 1.0) + noise * rng.standard_normal((n, 2))
    labels = (corners[:, 0] ^ corners[:, 1]).astype(np.float32)
    return points.astype(np.float32), labels


class MLP(Module):
    """Linear -> activation -> Linear."""

    def __init__(self, hidden: int, outputs: int, activation) -> None:
        super().__init__()
        self.hidden = Linear(2, hidden)
        self.out = Linear(hidden, outputs)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.activation(self.hidden(x)))


def gradient_descent_step(model: Module, loss: Tensor, lr: float) -> None:
    """Zero the gradients, backpropagate, and step every parameter by ``-lr * grad``."""
    for p in model.parameters():
        p.grad = None
    loss.backward()
    with no_grad():
        for p in model.parameters():
            p.data -= lr * p.grad.data


def test_mlp_learns_two_moons_with_cross_entropy():
    start = time.perf_counter()
    manual_seed(0)
    points, labels = two_moons(400, noise=0.1, seed=0)
    model = MLP(hidden=32, outputs=2, activation=tanh)
    x, y = Tensor(points), Tensor(labels)
    losses = []
    for _ in range(1500):
        loss = cross_entropy(model(x), y)
        losses.append(loss.item())
        gradient_descent_step(model, loss, lr=0.5)
    with no_grad():
        train_accuracy = (model(x).data.argmax(axis=-1) == labels).mean()
        test_points, test_labels = two_moons(400, noise=0.1, seed=1)
        test_accuracy = (model(Tensor(test_points)).data.argmax(axis=-1) == test_labels).mean()
    assert train_accuracy >= 0.99
    assert test_accuracy >= 0.98
    assert losses[-1] < 0.05 < losses[0]
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    assert time.perf_counter() - start < 5.0


def test_mlp_learns_xor_with_relu_and_binary_cross_entropy():
    start = time.perf_counter()
    manual_seed(1)
    points, labels = xor_clusters(200, noise=0.2, seed=2)
    model = MLP(hidden=16, outputs=1, activation=ReLU())
    x, y = Tensor(points), Tensor(labels)
    for _ in range(1000):
        probabilities = sigmoid(model(x)).reshape(-1)  # (N, 1) -> (N,)
        loss = binary_cross_entropy(probabilities, y)
        gradient_descent_step(model, loss, lr=0.5)
    with no_grad():
        predicted = sigmoid(model(x)).data.reshape(-1) > 0.5
    assert (predicted == labels.astype(bool)).mean() >= 0.99
    assert loss.item() < 0.1
    assert time.perf_counter() - start < 5.0
