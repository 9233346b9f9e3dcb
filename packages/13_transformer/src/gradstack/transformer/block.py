"""TransformerBlock: one pre-norm GPT layer, causal self-attention then an MLP."""

from __future__ import annotations

from gradstack.attention import KVCache, MultiHeadAttention
from gradstack.layers import Module
from gradstack.tensor import Tensor, check_positive_int

from .mlp import MLP
from .normalization import LayerNorm


class TransformerBlock(Module):
    """``x = x + attn(ln1(x))`` then ``x = x + mlp(ln2(x))`` (pre-norm, as in GPT-2).

    Normalizing the input of each branch rather than the residual stream keeps the
    stream an untouched sum of branch outputs, which is what lets deep stacks train
    without warm-up tricks. Attention is always causal.
    """

    def __init__(
        self, embed_dim: int, num_heads: int, mlp_ratio: int = 4, dropout: float = 0.0
    ) -> None:
        super().__init__()
        check_positive_int("TransformerBlock", "embed_dim", embed_dim)
        check_positive_int("TransformerBlock", "num_heads", num_heads)
        if isinstance(mlp_ratio, bool) or not isinstance(mlp_ratio, (int, float)) or mlp_ratio <= 0:
            raise ValueError(f"TransformerBlock: mlp_ratio must be positive, got {mlp_ratio!r}")
        hidden_dim = int(round(mlp_ratio * embed_dim))
        self.ln1 = LayerNorm(embed_dim)
        self.attn = MultiHeadAttention(embed_dim, num_heads, bias=True, dropout=dropout)
        self.ln2 = LayerNorm(embed_dim)
        self.mlp = MLP(embed_dim, hidden_dim, dropout=dropout)

    def forward(self, x: Tensor, cache: KVCache | None = None) -> Tensor:
        """(B, T, C) -> (B, T, C); with ``cache`` the T new positions follow the cached ones."""
        # HINT: attention in a GPT block is always causal, and only attention needs the cache
        # HINT: (the MLP works on each position alone). Normalize the branch input, never the
        # HINT: residual stream itself.
        # BEGIN SOLUTION
        x = x + self.attn(self.ln1(x), is_causal=True, cache=cache)
        return x + self.mlp(self.ln2(x))
        # END SOLUTION
