"""The GPT forward kernel: a large batch runs as shards in parallel threads.

``GPT.__call__`` runs this instead of ``forward`` when kernels are on. It asks
``gradstack.autograd.shards_for`` how many shards the batch is worth (one per core for
a large batch, else one; ``use_shards`` and ``GRADSTACK_SHARDS`` override it) and runs
``forward`` through ``gradstack.autograd.sharded_call``, so ``loss.backward()`` in a
plain loop runs the shards' backward passes in parallel too. With dropout active in
training mode it stays on one shard: threads would draw from the shared generator in a
racing order and a seeded run would not repeat.
"""

from __future__ import annotations

from typing import Any

from gradstack.autograd import sharded_call, shards_for
from gradstack.tensor import Tensor, is_grad_enabled

from ..gpt import GPT, register_forward_kernel
from ..tokens import check_tokens


def sharded_forward(model: GPT, tokens: Any) -> Tensor:
    """Logits (B, T, V) of ``tokens``, over the shards ``shards_for`` picks."""
    idx = check_tokens("GPT.forward", tokens, model.config)
    batch, seq_len = idx.shape
    shards = shards_for(batch, seq_len * model.config.embed_dim)
    if shards <= 1 or (model.training and model.config.dropout > 0):
        return model.forward(idx)
    params = list(model.parameters()) if is_grad_enabled() else []
    return sharded_call(model.forward, idx, params, shards)


register_forward_kernel(sharded_forward)
