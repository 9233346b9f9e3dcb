"""Gradient checks of gradstack.layers: Linear, Dropout, Sequential (float64 parameters)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from gradstack.layers import Dropout, Linear, Sequential
from gradstack.tensor import Tensor, manual_seed
from gradstack.tensor.gradcheck_table import (
    Built,
    TorchCase,
    cases_of,
    f64,
    module_case,
    torch_leaf,
)

MODULE = "layers"


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


GRADCHECK_CASES = [
    *cases_of("Linear", _linear, ("with bias, (B, T, in)", "without bias, (B, in)"), "linear"),
    *cases_of("Dropout (train mode)", _dropout, ("p=0.3, fixed mask",)),
    *cases_of("Sequential", _sequential, ("Linear, Dropout(0), Linear, then tanh",)),
]
TORCH_CASES = _torch_cases()
