"""A call over batch shards in parallel threads, recorded as one graph node.

``sharded_call(fn, batch, params, shards)`` splits ``batch`` along dim 0, runs ``fn`` on
each shard in its own thread (one BLAS thread each, see ``parallel.py``) and returns the
shard outputs joined along dim 0 as one Tensor. Its graph node has the parameters as
inputs; its gradient rule runs each shard's backward in its own thread and sums the
shards' parameter gradients in shard order. So a plain loop (``loss = f(model(x));
loss.backward()``) gets both halves of the step on both cores without calling anything
special: the model decides (``shards_for``) and ``backward()`` honours the node.

How many shards: ``shards_for`` asks, in order, ``with use_shards(n):`` (what
``gradstack train`` sets from ``--shards``), the environment variable
``GRADSTACK_SHARDS`` (``1`` switches sharding off), then ``suggest_shards``. The sums
over shards are added in a fixed order, so a run is deterministic; they differ from an
unsharded run only in the last bits (float addition is not associative).

Only the parameters passed in get gradients through the node (an input batch of integer
tokens needs none); each shard's graph is freed by its backward, as ``backward()``
frees a graph, so a second backward through a sharded call is an error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from types import TracebackType

import numpy as np

from gradstack.tensor import (
    Node,
    Tensor,
    default_generator,
    generator_scope,
    get_op,
    is_grad_enabled,
    register_op,
)

from .engine import grad
from .parallel import map_shards, shard_batch, suggest_shards
from .registry import register_rule

ENV_VAR = "GRADSTACK_SHARDS"


class _Override:
    """The shard count ``use_shards`` set (None: decide per call)."""

    count: int | None = None


def _from_environment() -> int | None:
    """``GRADSTACK_SHARDS`` as a positive int, None when unset; bad values are an error."""
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{ENV_VAR}={value!r}: expected a positive number of shards (1 = off)")
    return int(value)


class use_shards:  # noqa: N801 (a context manager, named like no_grad)
    """Context manager: every sharded call inside uses ``count`` shards (1 = none)."""

    def __init__(self, count: int | None) -> None:
        if count is not None and count < 1:
            raise ValueError(f"use_shards: count must be >= 1 or None, got {count}")
        self.count = count
        self.previous: int | None = None

    def __enter__(self) -> None:
        self.previous = _Override.count
        _Override.count = self.count

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        _Override.count = self.previous


def shards_for(batch_size: int, work_per_row: int) -> int:
    """Shards for a batch: ``use_shards``, else ``GRADSTACK_SHARDS``, else ``suggest_shards``."""
    count = _Override.count or _from_environment()
    if count is None:
        return suggest_shards(batch_size, work_per_row)
    return max(1, min(count, batch_size))


@register_op("sharded_call")
def _sharded_call_op(*arrays: np.ndarray) -> tuple[np.ndarray, None]:
    """Not run through ``apply``: the node is built by ``sharded_call``."""
    raise RuntimeError("sharded_call: call gradstack.autograd.sharded_call, not apply")


def _with_generator(
    fn: Callable[[np.ndarray], Tensor], part: np.ndarray, seed: int | None
) -> Tensor:
    """``fn(part)``, drawing random numbers from a generator of its own when given a seed."""
    if seed is None:
        return fn(part)
    with generator_scope(np.random.default_rng(seed)):
        return fn(part)


def sharded_call(
    fn: Callable[[np.ndarray], Tensor],
    batch: np.ndarray,
    params: Sequence[Tensor],
    shards: int,
    *,
    random: bool = False,
) -> Tensor:
    """``fn(batch)`` computed as ``shards`` parallel calls on row blocks of ``batch``.

    ``random=True`` (``fn`` draws random numbers, as dropout in training does): each shard
    draws from a generator of its own, seeded from the default generator in shard order
    (one draw of ``shards`` seeds), so the draws do not depend on thread timing and a
    seeded run repeats exactly. The masks then differ from one unsharded call's.
    """
    batch = np.asarray(batch)
    if shards <= 1 or batch.shape[0] < 2:
        return fn(batch)
    parts = [part[0] for part in shard_batch(batch, shards=shards)]
    seeds: list[int | None] = [None] * len(parts)
    if random:
        seeds = [int(s) for s in default_generator().integers(0, 2**63 - 1, size=len(parts))]
    outputs = map_shards(_with_generator, [fn] * len(parts), parts, seeds)
    data = np.concatenate([out.data for out in outputs], axis=0)
    inputs = tuple(p for p in params if p.requires_grad)
    if not is_grad_enabled() or not inputs or not any(out.requires_grad for out in outputs):
        return Tensor._result(data, None)
    bounds = np.cumsum([0] + [len(part) for part in parts])
    saved = (outputs, list(zip(bounds[:-1], bounds[1:])))
    node = Node(get_op("sharded_call"), inputs, {}, saved, (True,) * len(inputs))
    return Tensor._result(data, node)


@register_rule("sharded_call")
def _sharded_call_backward(grad_output: np.ndarray, node: Node) -> tuple[np.ndarray | None, ...]:
    """Each shard's backward in its own thread; parameter gradients summed in shard order."""
    outputs, bounds = node.saved
    params = list(node.inputs)

    def shard_backward(out: Tensor, rows: tuple[int, int]) -> tuple[Tensor | None, ...]:
        if not out.requires_grad:
            return (None,) * len(params)
        return grad(out, params, grad_output[rows[0] : rows[1]], allow_unused=True)

    results = map_shards(shard_backward, outputs, bounds)
    sums: list[np.ndarray | None] = []
    for i in range(len(params)):
        parts = [r[i].data for r in results if r[i] is not None]
        total = parts[0] if parts else None
        for part in parts[1:]:
            total += part
        sums.append(total)
    return tuple(sums)
