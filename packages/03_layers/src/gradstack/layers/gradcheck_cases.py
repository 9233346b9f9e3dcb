"""Gradient checks of gradstack.layers: Linear, Dropout, Sequential (float64 parameters)."""

from __future__ import annotations

from functools import partial
from types import ModuleType

import numpy as np

from gradstack.layers import Dropout, Linear, Sequential, dropout, linear
from gradstack.tensor import (
    Built,
    GradCase,
    Tensor,
    TorchCase,
    cases_of,
    f64,
    manual_seed,
    module_case,
    torch_leaf,
)

X_SHAPES = [(4, 3), (2, 5, 3), (2, 1, 2, 3), (3,)]
PARTIAL = {"x only": (True, False, False), "weight only": (False, True, False),
           "bias only": (False, False, True)}  # fmt: skip


def _linear() -> list[Built]:
    """Linear with and without bias, on 2-D and batched 3-D inputs."""
    manual_seed(0)
    with_bias = Linear(4, 3).double()
    no_bias = Linear(5, 2, bias=False).double()
    x3, x2 = f64((2, 3, 4), 1), f64((4, 5), 2)
    return [
        module_case(with_bias, lambda: with_bias(x3), x3),
        module_case(no_bias, lambda: no_bias(x2), x2),
    ]


def _dropout() -> list[Built]:
    """Dropout in training mode (the same mask every call: the seed is reset)."""
    drop = Dropout(0.3)
    x = f64((4, 6), 3)

    def dropped(x: Tensor) -> Tensor:
        manual_seed(7)  # finite differences need the same mask at every evaluation
        return drop(x)

    return [(dropped, [x])]


def _sequential() -> list[Built]:
    """A two-layer network: every parameter must get its gradient."""
    manual_seed(1)
    net = Sequential(Linear(3, 5), Dropout(0.0), Linear(5, 2)).double()
    x = f64((4, 3), 4)
    return [module_case(net, lambda: net(x).tanh(), x)]


def _torch_cases() -> list[TorchCase]:
    """Linear (B, T, in) against x @ W.T + b in PyTorch."""
    manual_seed(2)
    layer = Linear(4, 3).double()
    x0 = np.random.default_rng(5).uniform(-1, 1, (2, 3, 4))
    weight0, bias0 = layer.weight.data.copy(), layer.bias.data.copy()

    def ours() -> tuple[Tensor, list[Tensor]]:
        x = Tensor(x0, dtype="float64", requires_grad=True)
        return layer(x), [x, layer.weight, layer.bias]

    def theirs(torch: ModuleType) -> tuple[object, list[object]]:
        x, w, b = (torch_leaf(torch, a) for a in (x0, weight0, bias0))
        return torch.nn.functional.linear(x, w, b), [x, w, b]

    return [TorchCase("Linear", ours, theirs)]


def _linear_op(x_shape: tuple[int, ...], bias: bool) -> Built:
    """The fused linear op on an input of ``x_shape`` (any rank), a (5, 3) weight."""
    inputs = [f64(x_shape, 1), f64((5, 3), 2)] + ([f64((5,), 3)] if bias else [])
    return linear, inputs


def _linear_partial(needs: tuple[bool, bool, bool]) -> Built:
    """The linear op where only some of x, weight, bias require grad."""
    inputs = [f64((2, 4, 3), 1), f64((5, 3), 2), f64((5,), 3)]
    for tensor, need in zip(inputs, needs):
        tensor.requires_grad = need
    return linear, inputs


def _used_twice() -> Built:
    """One Linear applied twice: its parameters' gradients add up."""
    manual_seed(2)
    layer = Linear(3, 3).double()
    x = f64((2, 3), 10)
    return module_case(layer, lambda: layer(layer(x)), x)


def _functional_dropout() -> Built:
    """The dropout function with a fixed mask (the seed is reset at every evaluation)."""

    def fixed_mask_dropout(x: Tensor) -> Tensor:
        manual_seed(5)
        return dropout(x, 0.4)

    return fixed_mask_dropout, [f64((4, 5), 12)]


LINEAR_OP = [
    GradCase("linear op", f"{shape} {'with' if bias else 'without'} bias",
             partial(_linear_op, shape, bias), "linear")
    for shape in X_SHAPES
    for bias in (True, False)
] + [
    GradCase("linear op", f"{name} requires grad", partial(_linear_partial, needs), "linear")
    for name, needs in PARTIAL.items()
]  # fmt: skip

GRADCHECK_CASES = [
    *LINEAR_OP,
    GradCase("Linear", "one layer used twice", _used_twice, "linear"),
    GradCase("Dropout (train mode)", "dropout function, p=0.4", _functional_dropout),
    *cases_of("Linear", _linear, ("with bias, (B, T, in)", "without bias, (B, in)"), "linear"),
    *cases_of("Dropout (train mode)", _dropout, ("p=0.3, fixed mask",)),
    *cases_of("Sequential", _sequential, ("Linear, Dropout(0), Linear, then tanh",)),
]
TORCH_CASES = _torch_cases()
