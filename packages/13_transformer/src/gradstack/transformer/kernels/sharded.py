"""The GPT forward kernel: a large batch runs as shards in parallel threads.

``GPT.__call__`` runs this instead of ``forward`` when kernels are on. It asks
``gradstack.autograd.shards_for`` how many shards the batch is worth (one per core for
a large batch, else one; ``use_shards`` and ``GRADSTACK_SHARDS`` override it) and runs
``forward`` through ``gradstack.autograd.sharded_call``, so ``loss.backward()`` in a
plain loop runs the shards' backward passes in parallel too. With dropout active in
training mode each shard draws its masks from a generator of its own, seeded from the
default generator in shard order (``sharded_call(random=True)``), so a seeded run repeats
exactly whatever the threads' timing (its masks differ from one unsharded batch's).

Under ``no_grad`` (and with no dropout to apply) each shard runs the decoding kernel's
array forward (``ArrayDecoder.logits``: no Tensors, no graph, q/k/v in one product)
instead of the modules, unless an op hook is installed (a profile, ``attention_maps``):
tools that watch ops then see every op of the modules.
"""

from __future__ import annotations

from typing import Any

from gradstack.autograd import sharded_call, shards_for
from gradstack.tensor import Tensor, get_op_hook, is_grad_enabled

from ..gpt import GPT, register_forward_kernel
from ..tokens import check_tokens
from .decode import ArrayDecoder, folding_pays


def sharded_forward(model: GPT, tokens: Any) -> Tensor:
    """Logits (B, T, V) of ``tokens``, over the shards ``shards_for`` picks."""
    idx = check_tokens("GPT.forward", tokens, model.config)
    batch, seq_len = idx.shape
    shards = shards_for(batch, model.config.forward_work(seq_len))
    dropout = model.training and model.config.dropout > 0
    if not dropout and not is_grad_enabled() and get_op_hook() is None:
        fold = folding_pays(model.config.embed_dim, batch * seq_len)
        decoder = ArrayDecoder(model, contiguous=False, fold=fold)  # one pass: no (in, out) copies
        return sharded_call(
            lambda part: Tensor._result(decoder.logits(part), None), idx, [], shards
        )
    params = list(model.parameters()) if shards > 1 else []  # one shard never reads them
    return sharded_call(model.forward, idx, params, shards, random=dropout)


register_forward_kernel(sharded_forward)
