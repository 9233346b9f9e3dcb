"""Checks of the engine itself, the rows ``gradstack check`` prints for gradstack.autograd.

Each ``ValueCase`` (see ``gradstack.tensor.gradcheck_table``) computes gradients whose
value is known in closed form and returns the worst relative error; this package's tests
run the same list.
"""

from __future__ import annotations

import numpy as np

from gradstack.tensor import Tensor, ValueCase

#: Length of the long chain: far deeper than Python's recursion limit.
CHAIN_LENGTH = 20_000
_TOL = 1e-12


def _rel(ours: np.ndarray, expected: np.ndarray) -> float:
    """Largest absolute difference relative to the largest magnitude of ``expected``."""
    scale = max(float(np.max(np.abs(expected))), 1e-300)
    return float(np.max(np.abs(np.asarray(ours) - expected))) / scale


def _leaf(shape: tuple[int, ...], seed: int) -> Tensor:
    """A float64 leaf that requires grad."""
    data = np.random.default_rng(seed).uniform(-1.0, 1.0, shape)
    return Tensor(data, dtype="float64", requires_grad=True)


def shared_inputs() -> float:
    """One input used by three branches: its gradient is the sum of theirs (2x + w + 1)."""
    x, w = _leaf((2, 3), 0), _leaf((3,), 1)
    ((x * x).sum() + (x * w).sum() + x.sum()).backward()
    return _rel(x.grad.data, 2 * x.data + w.data + 1.0)


def tied_matmul() -> float:
    """``x @ x.T``: both operands are the same leaf, d sum / dx = (1 1^T)(x) twice."""
    x = _leaf((3, 4), 2)
    (x @ x.T).sum().backward()
    expected = 2 * np.ones((3, 3)) @ x.data
    return _rel(x.grad.data, expected)


def retain_graph() -> float:
    """Two backward passes with ``retain_graph=True`` add up; a third one without it fails."""
    x = _leaf((2, 3), 3)
    out = (x * x).sum()
    out.backward(retain_graph=True)
    out.backward()
    try:
        out.backward()
    except RuntimeError:
        return _rel(x.grad.data, 4 * x.data)
    return float("inf")  # a freed graph must refuse a second pass


def long_chain() -> float:
    """A chain of 20,000 multiplications: no recursion limit, the product of the factors."""
    x = _leaf((3,), 4)
    y = x
    for _ in range(CHAIN_LENGTH):
        y = y * 1.0001
    y.sum().backward()
    return _rel(x.grad.data, np.full(3, 1.0001**CHAIN_LENGTH))


def broadcasting_reductions() -> float:
    """A (3,) row broadcast over (4, 3): its gradient sums over the broadcast dim."""
    a, b = _leaf((4, 3), 5), _leaf((3,), 6)
    ((a + b).sum(dim=0).sum() + (a * b).mean()).backward()
    errors = [
        _rel(b.grad.data, 4.0 + a.data.sum(axis=0) / 12),
        _rel(a.grad.data, 1.0 + np.broadcast_to(b.data, (4, 3)) / 12),
    ]
    return max(errors)


def keepdim_reductions() -> float:
    """``x - x.mean(dim=-1, keepdim=True)``: a reduction broadcast back sums to zero."""
    x, w = _leaf((2, 5), 7), _leaf((2, 5), 8)
    ((x - x.mean(dim=-1, keepdim=True)) * w).sum().backward()
    expected = w.data - w.data.mean(axis=-1, keepdims=True)
    return _rel(x.grad.data, expected)


VALUE_CASES = [
    ValueCase("accumulation", "one input, three branches", shared_inputs, _TOL),
    ValueCase("accumulation", "x @ x.T", tied_matmul, _TOL),
    ValueCase("retain_graph", "two passes add, a third fails", retain_graph, _TOL),
    ValueCase("20,000-op chain", "product of the factors", long_chain, 1e-9),
    ValueCase(
        "broadcasting reductions",
        "sum and mean over a broadcast row",
        broadcasting_reductions,
        _TOL,
    ),
    ValueCase("broadcasting reductions", "keepdim mean", keepdim_reductions, _TOL),
]
