"""The training step ``gradstack train`` runs: the reference training loop's body.

Read this file the way nanoGPT's ``train.py`` is read: it is the whole of one step, and it
is the plain loop a PyTorch user writes::

    optimizer.zero_grad()
    loss = cross_entropy(model(inputs), targets)   # logits (B, T, V), targets (B, T)
    loss.backward()
    clip_grad_norm_(params, grad_clip)             # optional
    optimizer.step()

plus the two things a long run needs: the batch split into ``shards`` that run forward and
backward in parallel threads (``gradstack.autograd.use_shards`` pins the count that GPT's
forward kernel would otherwise choose), and a non-finite loss or gradient norm stopping
the step before the update, so the weights stay those of the last good step.
``gradstack train`` (``cli/loop.py``) and ``bench/gpt_step.py --loop train`` call it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gradstack.autograd import use_shards
from gradstack.losses import cross_entropy
from gradstack.optim import Optimizer, clip_grad_norm_
from gradstack.tensor import Tensor
from gradstack.transformer import GPT


def grad_norm(params: Sequence[Tensor]) -> float:
    """The global L2 norm of the gradients (what clipping would measure)."""
    grads = [p.grad.data for p in params if p.grad is not None]
    with np.errstate(over="ignore", invalid="ignore"):
        return math.sqrt(sum(float(np.vdot(g, g)) for g in grads))


def training_step(
    model: GPT,
    optimizer: Optimizer,
    params: Sequence[Tensor],
    inputs: np.ndarray,
    targets: np.ndarray,
    shards: int,
    grad_clip: float,
) -> float:
    """Forward, backward (over ``shards`` threads), clip, update; returns the batch loss.

    The plain loop, with the shard count pinned by ``use_shards``: GPT's forward kernel
    runs the shards, and ``backward()`` runs their backward passes in parallel.

    A non-finite loss or gradient norm is a FloatingPointError raised before the update,
    so the parameters stay those of the last good step.
    """

    optimizer.zero_grad()
    with use_shards(shards):
        loss_tensor = cross_entropy(model(inputs), Tensor(targets))  # logits (B, T, V)
        loss_tensor.backward()
    loss = float(loss_tensor.item())
    if not math.isfinite(loss):
        raise FloatingPointError(f"the loss is {loss}")
    if grad_clip > 0:
        clip_grad_norm_(params, grad_clip)  # a FloatingPointError if the norm is not finite
    else:
        norm = grad_norm(params)
        if not math.isfinite(norm):
            raise FloatingPointError(f"the gradient norm is {norm}")
    optimizer.step()
    return loss
