"""Gradient checks of gradstack.embeddings (op and rule side by side in the module)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from gradstack.embeddings import (
    Embedding,
    PositionalEncoding,
    SinusoidalPositionalEncoding,
    embedding,
)
from gradstack.tensor import (
    Built,
    Tensor,
    TorchCase,
    cases_of,
    f64,
    manual_seed,
    module_case,
    torch_leaf,
)

INDICES = np.array([[1, 3, 3, 0], [4, 1, 1, 1]])  # (B=2, T=4), repeated indices


def _embedding() -> list[Built]:
    """Lookups with repeated indices: their gradients must add up in the weight."""
    manual_seed(0)
    table = Embedding(5, 3).double()
    squared = Embedding(5, 3).double()
    tokens = np.array([[4, 4, 0], [2, 4, 0]])
    return [
        module_case(table, lambda: table(INDICES) * 1.0),
        module_case(squared, lambda: squared(tokens) ** 2),
    ]


def _lookup() -> list[Built]:
    """The embedding function on a (3, 4) index array with repeats, every row but one used."""
    indices = np.array([[1, 3, 3, 0], [3, 1, 5, 3], [0, 0, 0, 0]])
    return [((lambda w: embedding(indices, w) * 1.5), [f64((6, 3), 0)])]


def _positional() -> list[Built]:
    """Learned positions (gradient to x and the table) and sinusoidal ones (to x only)."""
    manual_seed(1)
    learned = PositionalEncoding(6, 3).double()
    fixed = SinusoidalPositionalEncoding(6, 4).double()
    squared = PositionalEncoding(6, 3).double()
    sinusoidal = SinusoidalPositionalEncoding(9, 4)
    x, y = f64((2, 4, 3), 2), f64((2, 4, 3), 4)
    return [
        module_case(learned, lambda: learned(x), x),
        (lambda y: fixed(y), [f64((2, 5, 4), 3)]),
        module_case(squared, lambda: squared(y) * squared(y), y),
        (lambda z: sinusoidal(z) ** 2, [f64((2, 6, 4), 5)]),
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
    *cases_of(
        "Embedding", _embedding, ("repeated indices", "squared, repeated tokens"), "embedding"
    ),
    *cases_of("Embedding", _lookup, ("embedding function, (3, 4) indices",), "embedding"),
    *cases_of(
        "positional encodings",
        _positional,
        ("learned", "sinusoidal", "learned, used twice", "sinusoidal float32 table, squared"),
    ),
]
TORCH_CASES = _torch_cases()
