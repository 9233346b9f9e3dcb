"""Gradient checking: analytic gradients against float64 central differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gradstack.tensor import Tensor, no_grad

from .engine import grad, topological_order


@dataclass(frozen=True)
class GradcheckResult:
    """How far the analytic gradient is from the numeric one, and where."""

    passed: bool
    max_abs_error: float
    max_rel_error: float
    worst_input: int
    worst_index: tuple[int, ...]
    analytic: float
    numeric: float
    checked: int
    ops: tuple[str, ...] = ()  # the ops whose gradient rules were checked, in graph order

    def describe(self) -> str:
        """One line naming the ops, the worst element and both values."""
        through = f"through ops {', '.join(self.ops)}: " if self.ops else ""
        return (
            f"{through}input {self.worst_input} element {self.worst_index}: analytic "
            f"{self.analytic:.8g} vs numeric {self.numeric:.8g} (abs error "
            f"{self.max_abs_error:.3g}, rel error {self.max_rel_error:.3g}) over "
            f"{self.checked} elements"
        )


def _projected(fn: Callable[..., Tensor], inputs: Sequence[Tensor], weights: np.ndarray) -> float:
    """The scalar ``sum(fn(inputs) * weights)`` that the differences are taken of."""
    with no_grad():
        return float(np.sum(_output(fn, inputs).data * weights))


def _output(fn: Callable[..., Tensor], inputs: Sequence[Tensor]) -> Tensor:
    """Call ``fn`` and check it returned a Tensor."""
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out


def check_gradients(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> GradcheckResult:
    """Compare ``d sum(fn(*inputs) * R) / d inputs`` with central differences.

    ``R`` is a fixed random weighting of the output, so one backward pass checks
    every input element against a random direction of the Jacobian. Inputs that
    require grad must be float64 (finite differences in float32 are noise).
    """
    inputs = list(inputs)
    wanted = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wanted:
        raise ValueError("gradcheck: no input requires grad, nothing to check")
    for i in wanted:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} is {inputs[i].dtype}; pass float64 tensors "
                "(Tensor(x, dtype='float64', requires_grad=True) or .double())"
            )
    out = _output(fn, inputs)
    ops = _op_names(out)
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    analytic = _analytic(out, [inputs[i] for i in wanted], weights)
    worst = (-1.0, 0.0, 0.0, wanted[0], (), 0.0, 0.0)
    checked = 0
    for slot, i in enumerate(wanted):
        data = inputs[i].data
        exact = analytic[slot]
        for index in np.ndindex(data.shape):
            original = data[index]
            data[index] = original + eps
            plus = _projected(fn, inputs, weights)
            data[index] = original - eps
            minus = _projected(fn, inputs, weights)
            data[index] = original
            numeric = (plus - minus) / (2 * eps)
            error = abs(exact[index] - numeric)
            # how far past its tolerance this element is: > 1 fails, NaN fails
            excess = error / (atol + rtol * abs(numeric))
            if np.isnan(excess):
                excess = np.inf
            checked += 1
            if excess > worst[0]:
                relative = error / max(abs(numeric), 1e-12)
                worst = (excess, error, relative, i, index, float(exact[index]), numeric)
    excess, error, relative, i, index, exact_value, numeric = worst
    return GradcheckResult(
        bool(excess <= 1.0),
        float(error),
        float(relative),
        i,
        tuple(int(k) for k in index),
        exact_value,
        float(numeric),
        checked,
        ops,
    )


def _op_names(out: Tensor) -> tuple[str, ...]:
    """Names of the ops in ``out``'s graph, each once, outermost first."""
    if out.grad_fn is None:
        return ()
    names = [node.op.name for node in topological_order([out.grad_fn])]
    return tuple(dict.fromkeys(names))


def _analytic(out: Tensor, inputs: list[Tensor], weights: np.ndarray) -> list[np.ndarray]:
    """Gradients of ``sum(out * weights)``; zeros where no gradient reaches an input.

    An output cut off from the graph (a detach, an op run under no_grad) has an
    analytic gradient of zero, so the check fails by value against the numeric one.
    """
    if not out.requires_grad:
        return [np.zeros(t.shape) for t in inputs]
    grads = grad(out, inputs, grad_outputs=weights, allow_unused=True)
    return [np.zeros(t.shape) if g is None else g.data for t, g in zip(inputs, grads)]


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True when every analytic gradient matches float64 central differences.

    Otherwise raises (or returns False with ``raise_exception=False``) naming the
    worst element with its analytic and numeric values.
    """
    items = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    result = check_gradients(fn, items, eps=eps, atol=atol, rtol=rtol)
    if not result.passed and raise_exception:
        name = getattr(fn, "__name__", type(fn).__name__)
        raise AssertionError(f"gradcheck failed for {name}: {result.describe()}")
    return bool(result.passed)
