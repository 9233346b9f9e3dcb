"""GPTConfig: the hyperparameters that fully describe a GPT's architecture."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from gradstack.tensor import check_positive_int, check_probability


def forward_work(seq_len: int, embed_dim: int, num_layers: int) -> int:
    """Multiply-adds of a GPT's blocks on one sequence: 12 C² per position per layer for the
    projections and the MLP, 2 T C for attention's two products (what ``suggest_shards``
    weighs when it decides whether a batch is worth splitting)."""
    return seq_len * num_layers * embed_dim * (12 * embed_dim + 2 * seq_len)


@dataclass(frozen=True)
class GPTConfig:
    """Everything needed to rebuild a GPT; saved as ``config.json`` next to the weights."""

    vocab_size: int
    embed_dim: int
    num_layers: int
    num_heads: int
    max_seq_len: int = 1024
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embed_dim", "num_layers", "num_heads", "max_seq_len"):
            check_positive_int("GPTConfig", name, getattr(self, name))
        check_probability("GPTConfig", "dropout", self.dropout)
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"GPTConfig: embed_dim {self.embed_dim} is not divisible by "
                f"num_heads {self.num_heads}"
            )

    @property
    def head_dim(self) -> int:
        """Size of one attention head."""
        return self.embed_dim // self.num_heads

    def forward_work(self, seq_len: int) -> int:
        """Multiply-adds of the blocks' forward pass on one sequence of ``seq_len`` tokens."""
        return forward_work(seq_len, self.embed_dim, self.num_layers)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, source: str = "config") -> GPTConfig:
        """Rebuild from ``to_dict`` output; unknown or missing fields are a ValueError."""
        if not isinstance(data, dict):
            raise ValueError(f"{source}: expected a JSON object, got {type(data).__name__}")
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"{source}: unknown GPTConfig fields {unknown}")
        try:
            return cls(**data)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{source}: not a valid GPTConfig: {error}") from None
