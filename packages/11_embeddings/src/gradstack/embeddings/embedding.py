"""Embedding: a trainable table of vectors, one row per token id."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstack.layers import Module, Parameter
from gradstack.tensor import Tensor, check_positive_int, default_generator

from .lookup import check_indices, lookup_rows


class Embedding(Module):
    """Map integer ids (any shape) to rows of ``weight`` (num_embeddings, embedding_dim).

    ``weight`` starts as N(0, 1) samples, as in ``torch.nn.Embedding``, drawn from the
    generator ``manual_seed`` seeds. The gradient of ``weight`` is a scatter-add: rows
    never looked up get exactly zero, rows looked up several times get the sum.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
        super().__init__()
        self.num_embeddings = check_positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = check_positive_int("Embedding", "embedding_dim", embedding_dim)
        shape = (self.num_embeddings, self.embedding_dim)
        self.weight = Parameter(default_generator().standard_normal(shape, dtype=np.float32))

    def forward(self, indices: Any) -> Tensor:
        """Rows of ``weight`` for ``indices`` (integer Tensor or array) -> (..., embedding_dim)."""
        index_array = check_indices("Embedding", indices, self.num_embeddings)
        return lookup_rows(index_array, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
