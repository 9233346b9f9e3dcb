"""MLP: the position-wise feed-forward half of a transformer block."""

from __future__ import annotations

from gradstack.activations import gelu
from gradstack.layers import Dropout, Linear, Module
from gradstack.tensor import Tensor, check_positive_int


class MLP(Module):
    """``dropout(linear2(gelu(linear1(x))))``: widen to ``hidden_dim``, GELU, project back.

    ``hidden_dim`` defaults to ``4 * embed_dim`` (GPT-2's ratio); the GELU is the tanh
    approximation GPT-2 was trained with.
    """

    def __init__(self, embed_dim: int, hidden_dim: int | None = None, dropout: float = 0.0) -> None:
        super().__init__()
        hidden_dim = 4 * embed_dim if hidden_dim is None else hidden_dim
        check_positive_int("MLP", "embed_dim", embed_dim)
        check_positive_int("MLP", "hidden_dim", hidden_dim)
        self.embed_dim = embed_dim
        self.hidden_dim = hidden_dim
        self.linear1 = Linear(embed_dim, hidden_dim)
        self.linear2 = Linear(hidden_dim, embed_dim)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """(..., embed_dim) -> (..., hidden_dim) -> (..., embed_dim)."""
        # HINT: gelu has two forms (its approximate= argument); GPT-2 was trained with the
        # HINT: tanh one, and test_matches_torch compares against PyTorch's tanh GELU.
        # BEGIN SOLUTION
        return self.dropout(self.linear2(gelu(self.linear1(x), approximate="tanh")))
        # END SOLUTION

    def extra_repr(self) -> str:
        """Shown inside ``MLP(...)``."""
        return f"embed_dim={self.embed_dim}, hidden_dim={self.hidden_dim}"
