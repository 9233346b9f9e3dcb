"""Gradient checks of gradstack.embeddings (op and rule side by side in the module)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from gradstack.embeddings import Embedding, PositionalEncoding, SinusoidalPositionalEncoding
from gradstack.tensor import Tensor, manual_seed
from gradstack.tensor.gradcheck_table import (
    Built,
    TorchCase,
    cases_of,
    f64,
    module_case,
    torch_leaf,
)

INDICES = np.array([[1, 3, 3, 0], [4, 1, 1, 1]])  # (B=2, T=4), repeated indices


def _embedding() -> list[Built]:
    """Lookups with repeated indices: their gradients must add up in the weight."""
    manual_seed(0)
    table = Embedding(5, 3).double()
    return [module_case(table, lambda: table(INDICES) * 1.0)]


def _positional() -> list[Built]:
    """Learned positions (gradient to x and the table) and sinusoidal ones (to x only)."""
    manual_seed(1)
    learned = PositionalEncoding(6, 3).double()
    fixed = SinusoidalPositionalEncoding(6, 4).double()
    x = f64((2, 4, 3), 2)
    return [
        module_case(learned, lambda: learned(x), x),
        (lambda y: fixed(y), [f64((2, 5, 4), 3)]),
    ]


def _torch_cases() -> list[TorchCase]:
    """Embedding lookup with repeats against torch.nn.functional.embedding."""
    manual_seed(4)
    table = Embedding(5, 3).double()
    weight0 = table.weight.data.copy()

    def ours() -> tuple[Tensor, list[Tensor]]:
        return table(INDICES), [table.weight]

    def theirs(torch: ModuleType) -> tuple[object, list[object]]:
        weight = torch_leaf(torch, weight0)
        return torch.nn.functional.embedding(torch.tensor(INDICES), weight), [weight]

    return [TorchCase("Embedding", ours, theirs)]


GRADCHECK_CASES = [
    *cases_of("Embedding", _embedding, ("repeated indices",)),
    *cases_of("positional encodings", _positional, ("learned", "sinusoidal")),
]
TORCH_CASES = _torch_cases()
