"""GPTConfig: the hyperparameters that fully describe a GPT's architecture."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from gradstack.tensor import check_positive_int, check_probability

# Attention's weight per position per layer, in units of T C: its two products are 2 T C
# multiply-adds, and its softmax makes several elementwise passes over the T scores that
# OpenBLAS's threads do not share out, only batch shards do. Measured (bench/gpt_step.py,
# one and two shards pinned): width 64, batch 8, context 256 trained 27.3 ms on one shard
# and 22.7 on two, while width 128, batch 8, context 64 (as many multiply-adds) ran 26.9
# on one and 28.6 on two; counting attention 5 T C puts the two on either side of the line.
ATTENTION_WEIGHT = 5


def forward_work(seq_len: int, embed_dim: int, num_layers: int) -> int:
    """The work of a GPT's blocks on one sequence, what ``suggest_shards`` weighs: 12 C²
    multiply-adds per position per layer for the projections and the MLP, and attention
    counted as 5 T C (``ATTENTION_WEIGHT``: its 2 T C multiply-adds and its softmax)."""
    return seq_len * num_layers * embed_dim * (12 * embed_dim + ATTENTION_WEIGHT * seq_len)


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
        """``forward_work`` of the blocks on one sequence of ``seq_len`` tokens."""
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
