"""GPT: a decoder-only transformer language model (GPT-2's architecture, nanoGPT's layout).

    tokens (B, T) int
      -> token_embedding + position_embedding      (B, T, C)
      -> dropout
      -> blocks: num_layers x TransformerBlock      (B, T, C)
      -> ln_f                                       (B, T, C)
      -> lm_head                                    (B, T, V) logits

B is the batch, T the sequence length, C ``embed_dim``, V ``vocab_size``. The
``lm_head`` has its own weight (it is not tied to the token embedding).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gradstack.attention import KVCache
from gradstack.embeddings import Embedding, PositionalEncoding
from gradstack.layers import Dropout, Linear, Module, ModuleList
from gradstack.tensor import Tensor, kernels_enabled

from . import checkpoint, generation
from .block import TransformerBlock
from .config import GPTConfig
from .init import init_gpt_weights
from .normalization import LayerNorm
from .tokens import check_tokens


class _ForwardKernel:
    """The runner ``GPT.__call__`` uses when kernels are on (set by ``kernels/sharded.py``)."""

    runner: Any = None


def register_forward_kernel(runner: Any) -> None:
    """Install the kernel ``GPT.__call__`` runs instead of ``forward`` (kernels on)."""
    if not callable(runner):
        raise TypeError("register_forward_kernel: runner must be a callable (model, tokens)")
    _ForwardKernel.runner = runner


class GPT(Module):
    """GPT language model: ``forward(tokens) -> logits``, ``generate`` with a KV cache.

    Weights are initialized as in nanoGPT (see ``init.init_gpt_weights``): normal
    with std 0.02 for every Linear weight and both embeddings, zero biases, LayerNorms
    at ones and zeros, and the two residual projections of each block (``attn.out_proj``
    and ``mlp.linear2``) at std ``0.02 / sqrt(2 * num_layers)`` so the residual stream's
    variance does not grow with depth. Initialization draws from
    ``gradstack.tensor.default_generator()``, so ``manual_seed`` fixes it.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        num_layers: int,
        num_heads: int,
        max_seq_len: int = 1024,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.config = GPTConfig(vocab_size, embed_dim, num_layers, num_heads, max_seq_len, dropout)
        self.token_embedding = Embedding(vocab_size, embed_dim)
        self.position_embedding = PositionalEncoding(max_seq_len, embed_dim)
        self.dropout = Dropout(dropout)
        self.blocks = ModuleList(
            [TransformerBlock(embed_dim, num_heads, dropout=dropout) for _ in range(num_layers)]
        )
        self.ln_f = LayerNorm(embed_dim)
        self.lm_head = Linear(embed_dim, vocab_size, bias=False)
        init_gpt_weights(self)

    @classmethod
    def from_config(cls, config: GPTConfig) -> GPT:
        """Build a freshly initialized GPT from a ``GPTConfig``."""
        if not isinstance(config, GPTConfig):
            raise TypeError(f"GPT.from_config: expects a GPTConfig, got {type(config).__name__}")
        return cls(**config.to_dict())

    # -- forward --------------------------------------------------------------------

    def __call__(self, tokens: Any) -> Tensor:
        """``forward``, or the forward kernel (batch shards on every core) when kernels are on."""
        runner = _ForwardKernel.runner
        if runner is None or not kernels_enabled():
            return self.forward(tokens)
        return runner(self, tokens)

    def forward(self, tokens: Any) -> Tensor:
        """Logits (B, T, V) for integer tokens (B, T) with T <= max_seq_len."""
        idx = check_tokens("GPT.forward", tokens, self.config)
        # HINT: hidden_states already does everything up to and including the final layer
        # HINT: norm (see the pipeline in this file's docstring).
        # BEGIN SOLUTION
        return self.lm_head(self.hidden_states(idx))
        # END SOLUTION

    def hidden_states(self, idx: np.ndarray, caches: Sequence[KVCache] | None = None) -> Tensor:
        """Final normalized hidden states (B, T, C) of checked tokens ``idx`` (B, T).

        With ``caches`` (one per block) the T tokens continue the cached sequence: they
        take the positions after the cached ones, and each block appends their keys and
        values to its cache.
        """
        _, seq_len = idx.shape
        start = 0 if caches is None else caches[0].length
        if start + seq_len > self.config.max_seq_len:
            raise ValueError(
                f"GPT: positions {start}..{start + seq_len - 1} exceed "
                f"max_seq_len={self.config.max_seq_len}"
            )
        # HINT: the pipeline is in this file's docstring. With caches, the new tokens sit at
        # HINT: positions start, start + 1, ...: position_embedding takes that offset. Each
        # HINT: block gets its own cache (or None); test_generate checks the cached path.
        # BEGIN SOLUTION
        x = self.token_embedding(idx)  # (B, T, C)
        x = self.position_embedding(x, start)  # (B, T, C) + positions start .. start + T - 1
        x = self.dropout(x)
        block_caches = [None] * len(self.blocks) if caches is None else caches
        for block, cache in zip(self.blocks, block_caches):
            x = block(x, cache=cache)  # (B, T, C)
        return self.ln_f(x)
        # END SOLUTION

    # -- generation -----------------------------------------------------------------

    def generate_stream(
        self,
        tokens: Any,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        use_cache: bool = True,
    ) -> Iterator[np.ndarray]:
        """Yield each new token column (B,) int64 as it is sampled; see ``generation``."""
        return generation.generate_stream(
            self, tokens, max_new_tokens, temperature, top_k, use_cache
        )

    def generate(
        self,
        tokens: Any,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        use_cache: bool = True,
    ) -> Tensor:
        """Continue integer tokens (B, T): returns an int64 Tensor (B, T + max_new_tokens).

        Batched, under ``no_grad`` and in eval mode (the training mode is restored
        afterwards). With ``use_cache`` (the default) each block keeps a KV cache of
        ``max_seq_len`` positions: the prompt is run once (prefill), then every new
        token costs one position's work. Learned absolute positions cannot slide, so
        when the cache is full it is re-filled with the last ``max_seq_len // 2``
        tokens, which then sit at positions ``0 .. max_seq_len // 2 - 1``, and decoding
        continues. While the sequence fits in ``max_seq_len`` the result equals
        recomputing the whole context each step (``use_cache=False``), which crops
        the context to the last ``max_seq_len`` tokens as nanoGPT does.

        ``temperature`` > 0 divides the logits; ``top_k`` keeps the k most likely
        tokens (``top_k=1`` is greedy decoding). Sampling draws from
        ``gradstack.tensor.default_generator()``, so ``manual_seed`` makes it
        reproducible.
        """
        return generation.generate(self, tokens, max_new_tokens, temperature, top_k, use_cache)

    # -- saving ---------------------------------------------------------------------

    def save(self, path_dir: str | os.PathLike) -> Path:
        """Publish ``config.json`` + ``model.npz`` as a new generation of ``path_dir``.

        All or nothing (see ``checkpoint``): a crash leaves the previous save current.
        Returns the generation folder.
        """
        weights = checkpoint.npz_bytes(self.state_dict())
        return checkpoint.save_checkpoint(path_dir, self.config, {checkpoint.WEIGHTS_FILE: weights})

    @classmethod
    def load(cls, path_dir: str | os.PathLike) -> GPT:
        """Rebuild the GPT of the checkpoint in ``path_dir`` (saved by ``save`` or by
        ``gradstack train``), its file hashes checked; damage is a ValueError."""
        ckpt = checkpoint.open_checkpoint(path_dir, f"GPT.load: {path_dir}")
        model = ckpt.build(cls)
        ckpt.load_into(model)
        return model

    def extra_repr(self) -> str:
        """The configuration, shown inside ``GPT(...)``."""
        fields = ", ".join(f"{k}={v}" for k, v in self.config.to_dict().items())
        return fields
