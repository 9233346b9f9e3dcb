"""How ``gradstack train`` and ``gradstack bench`` run a step fast, and the flags for it.

Both settings are the library's own defaults; the command only pins or opts out of them,
and its step is the plain loop a user writes (``zero_grad``, ``cross_entropy(model(x),
y).backward()``, ``step``):

- ``--shards N``: the batch is split into N shards that run forward and backward at once
  in Python threads, one BLAS thread each. GPT's forward kernel does this in any loop
  (``gradstack.autograd.sharded_call``, ``shards_for``); the command pins the count with
  ``gradstack.autograd.use_shards``. The default comes from
  ``gradstack.autograd.suggest_shards``: one shard per core when the batch is large
  enough, else 1. It is saved with the run, so a resumed run computes the same sums.
- ``--no-malloc-tuning``: gradstack asks glibc to keep freed large blocks when it is
  imported (``gradstack.tensor.runtime.apply_defaults``); this flag puts glibc's
  initial thresholds back (``restore_malloc``).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

import numpy as np

from gradstack.autograd import use_shards
from gradstack.losses import cross_entropy
from gradstack.optim import Optimizer, clip_grad_norm_
from gradstack.tensor import Tensor
from gradstack.tensor.runtime import restore_malloc, tune_malloc
from gradstack.transformer import GPT


def apply_process_settings(args: argparse.Namespace) -> None:
    """The process-wide part: malloc tuned (the library's default) unless the user opted out."""
    if getattr(args, "malloc_tuning", True):
        tune_malloc()
    else:
        restore_malloc()


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
