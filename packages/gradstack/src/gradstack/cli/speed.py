"""How ``gradstack train`` and ``gradstack bench`` run a step fast, and the flags for it.

Two settings, both on by default and both documented opt-outs (nothing happens on import):

- ``--shards N``: the batch is split into N shards that run forward and backward at once
  in Python threads, one BLAS thread each (``gradstack.autograd.data_parallel_backward``).
  NumPy releases the GIL in BLAS calls and large ufuncs, so small per-head products and
  the elementwise work both use every core. The default comes from
  ``gradstack.autograd.suggest_shards``: one shard per core when the batch is large
  enough, else 1. It is saved with the run, so a resumed run computes the same sums.
- ``--no-malloc-tuning``: by default glibc is asked to keep freed large blocks
  (``gradstack.tensor.runtime.tune_malloc``) instead of returning them to the OS and
  page-faulting them back every step.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

import numpy as np

from gradstack.autograd import data_parallel_backward, shard_batch
from gradstack.losses import cross_entropy
from gradstack.optim import Optimizer, clip_grad_norm_
from gradstack.tensor import Tensor
from gradstack.tensor.runtime import tune_malloc
from gradstack.transformer import GPT


def apply_process_settings(args: argparse.Namespace) -> None:
    """The process-wide part: malloc tuning unless the user opted out."""
    if getattr(args, "malloc_tuning", True):
        tune_malloc()


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

    A non-finite loss or gradient norm is a FloatingPointError raised before the update,
    so the parameters stay those of the last good step.
    """

    def loss_fn(x: np.ndarray, y: np.ndarray) -> Tensor:
        return cross_entropy(model(x), Tensor(y))  # logits (b, T, V), targets (b, T)

    optimizer.zero_grad()
    if shards > 1:
        loss = data_parallel_backward(loss_fn, shard_batch(inputs, targets, shards=shards), params)
    else:
        loss_tensor = loss_fn(inputs, targets)
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
