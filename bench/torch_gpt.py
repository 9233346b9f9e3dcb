"""The same GPT in PyTorch, for the CPU comparison in bench/gpt_step.py (torch is optional).

Written the way the best-known small-GPT code writes it (nanoGPT): one fused q/k/v
projection, ``F.scaled_dot_product_attention``, the same initialisation as gradstack's
GPT. ``generate`` decodes greedily with a hand-written KV cache (preallocated per block,
filled in place), refilled like gradstack's when the context is full, so the two
frameworks do the same cached work per token.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F  # noqa: N812 (PyTorch's convention)
from torch import nn


class KVCache:
    """Keys and values of one block, (B, H, max_len, hd) each, and how many are filled."""

    def __init__(self, batch: int, heads: int, max_len: int, head_dim: int) -> None:
        self.k = torch.empty(batch, heads, max_len, head_dim)
        self.v = torch.empty(batch, heads, max_len, head_dim)
        self.length = 0

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store the new positions; return every cached key and value so far."""
        start, end = self.length, self.length + k.shape[2]
        self.k[:, :, start:end] = k
        self.v[:, :, start:end] = v
        self.length = end
        return self.k[:, :, :end], self.v[:, :, :end]


class Block(nn.Module):
    """Pre-norm block: x + attn(ln1(x)), then x + mlp(ln2(x))."""

    def __init__(self, embed_dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.ln1 = nn.LayerNorm(embed_dim)
        self.qkv_proj = nn.Linear(embed_dim, 3 * embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        self.ln2 = nn.LayerNorm(embed_dim)
        self.linear1 = nn.Linear(embed_dim, 4 * embed_dim)
        self.linear2 = nn.Linear(4 * embed_dim, embed_dim)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        B, T, C = x.shape
        heads = self.num_heads
        q, k, v = self.qkv_proj(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in (q, k, v))
        causal = True
        if cache is not None:
            causal = cache.length == 0 and T > 1  # prefill is causal; one new token sees all
            k, v = cache.append(k, v)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)  # (B, H, T, hd)
        x = x + self.out_proj(y.transpose(1, 2).reshape(B, T, C))  # (B, T, C)
        return x + self.linear2(F.gelu(self.linear1(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    """Token + learned position embeddings, blocks, final LayerNorm, untied head."""

    def __init__(
        self, vocab_size: int, embed_dim: int, num_layers: int, num_heads: int, max_seq_len: int
    ) -> None:
        super().__init__()
        self.max_seq_len = max_seq_len
        self.token_embedding = nn.Embedding(vocab_size, embed_dim)
        self.position_embedding = nn.Embedding(max_seq_len, embed_dim)
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads) for _ in range(num_layers))
        self.ln_f = nn.LayerNorm(embed_dim)
        self.lm_head = nn.Linear(embed_dim, vocab_size, bias=False)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        scale = 0.02 / math.sqrt(2 * num_layers)
        for block in self.blocks:
            nn.init.normal_(block.out_proj.weight, std=scale)
            nn.init.normal_(block.linear2.weight, std=scale)

    def forward(self, idx: torch.Tensor, caches: list[KVCache] | None = None) -> torch.Tensor:
        T = idx.shape[1]
        start = 0 if caches is None else caches[0].length
        x = self.token_embedding(idx) + self.position_embedding.weight[start : start + T]
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i])
        return self.lm_head(self.ln_f(x))  # (B, T, V)

    @torch.inference_mode()
    def generate(self, idx: torch.Tensor, max_new_tokens: int) -> torch.Tensor:
        """Greedy decoding with a KV cache; a full cache is refilled with the last half."""
        batch = idx.shape[0]
        first = self.blocks[0]
        head_dim = first.ln1.normalized_shape[0] // first.num_heads

        def prefill(tokens: torch.Tensor) -> tuple[list[KVCache], torch.Tensor]:
            caches = [KVCache(batch, b.num_heads, self.max_seq_len, head_dim) for b in self.blocks]
            return caches, self(tokens, caches)[:, -1]

        out = [idx]
        caches, logits = prefill(idx[:, -self.max_seq_len :])
        for i in range(max_new_tokens):
            token = logits.argmax(dim=-1, keepdim=True)  # (B, 1)
            out.append(token)
            if i + 1 == max_new_tokens:
                break
            if caches[0].length == self.max_seq_len:
                caches, logits = prefill(torch.cat(out, dim=1)[:, -(self.max_seq_len // 2) :])
            else:
                logits = self(token, caches)[:, -1]
        return torch.cat(out, dim=1)
