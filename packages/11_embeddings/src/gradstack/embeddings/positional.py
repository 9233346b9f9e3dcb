"""Position information added to token vectors: a learned table and the fixed sinusoids."""

from __future__ import annotations

import numpy as np

from gradstack.layers import Module, Parameter
from gradstack.tensor import Tensor, check_positive_int, default_generator

from .sizes import check_sequence

LEARNED_INIT_STD = 0.02


class PositionalEncoding(Module):
    """Learned absolute positions: ``forward(x)`` returns ``x + pos[:T]`` for x (..., T, D).

    ``weight`` (max_seq_len, embed_dim) is a Parameter initialised N(0, 0.02) (GPT-2's
    choice for its position table); ``pos`` is another name for it. Only the first T
    rows receive gradient, summed over the batch.
    """

    def __init__(self, max_seq_len: int, embed_dim: int) -> None:
        super().__init__()
        self.max_seq_len = check_positive_int("PositionalEncoding", "max_seq_len", max_seq_len)
        self.embed_dim = check_positive_int("PositionalEncoding", "embed_dim", embed_dim)
        draws = default_generator().standard_normal((self.max_seq_len, self.embed_dim))
        self.weight = Parameter((draws * LEARNED_INIT_STD).astype(np.float32))

    @property
    def pos(self) -> Parameter:
        """The position table (the same Parameter as ``weight``)."""
        return self.weight

    def forward(self, x: Tensor, start: int = 0) -> Tensor:
        """Add position vectors start .. start + T - 1 to x of shape (..., T, embed_dim).

        ``start`` > 0 continues a sequence, as decoding with a KV cache does.
        """
        length = check_sequence("PositionalEncoding", x, self.max_seq_len, self.embed_dim, start)
        # HINT: stay in Tensor ops (slicing a Parameter, +) so the gradient reaches the table;
        # HINT: slicing self.weight.data would cut it off.
        # BEGIN SOLUTION
        return x + self.weight[start : start + length]
        # END SOLUTION

    def extra_repr(self) -> str:
        return f"max_seq_len={self.max_seq_len}, embed_dim={self.embed_dim}"


def sinusoidal_table(max_seq_len: int, embed_dim: int) -> np.ndarray:
    """Vaswani et al.'s table: even columns sin(p / 10000^(2i/D)), odd columns the cos."""
    # HINT: compute the angles in float64 and cast the table to float32 at the end; an odd D has one
    # HINT: more sin column than cos columns.
    # BEGIN SOLUTION
    positions = np.arange(max_seq_len, dtype=np.float64)[:, None]  # (L, 1)
    rates = np.exp(-np.log(10000.0) * np.arange(0, embed_dim, 2) / embed_dim)  # (ceil(D/2),)
    angles = positions * rates  # (L, 1) * (ceil(D/2),) -> (L, ceil(D/2))
    table = np.empty((max_seq_len, embed_dim), dtype=np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : embed_dim // 2])
    return table.astype(np.float32)
    # END SOLUTION


class SinusoidalPositionalEncoding(Module):
    """Fixed sinusoidal positions: ``forward(x)`` returns ``x + table[:T]``.

    ``table`` (max_seq_len, embed_dim) is a buffer (saved in ``state_dict``, converted
    by ``to``), not a parameter: nothing here is trained.
    """

    def __init__(self, max_seq_len: int, embed_dim: int) -> None:
        super().__init__()
        owner = "SinusoidalPositionalEncoding"
        self.max_seq_len = check_positive_int(owner, "max_seq_len", max_seq_len)
        self.embed_dim = check_positive_int(owner, "embed_dim", embed_dim)
        self.register_buffer("table", Tensor(sinusoidal_table(self.max_seq_len, self.embed_dim)))

    def forward(self, x: Tensor, start: int = 0) -> Tensor:
        """Add table rows start .. start + T - 1 to x of shape (..., T, embed_dim)."""
        owner = "SinusoidalPositionalEncoding"
        length = check_sequence(owner, x, self.max_seq_len, self.embed_dim, start)
        return x + self.table[start : start + length]

    def extra_repr(self) -> str:
        return f"max_seq_len={self.max_seq_len}, embed_dim={self.embed_dim}"
