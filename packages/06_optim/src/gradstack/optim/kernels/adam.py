"""Adam's step as a kernel: flat groups (flat.py) and the update in place on a work buffer.

The arithmetic is the reference's (gradstack.optim.adam), in the same order, so the
parameters and moments equal the reference's bit for bit; only the number of NumPy
calls and temporary arrays differs. A large flat group is updated in runs of whole
parameters, one per thread at once (``gradstack.tensor.run_blocks``), and each run in
cache blocks (``gradstack.tensor.cache_blocks``) so its fourteen passes find their data in
L2: the update is elementwise, so neither split changes a bit.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import numpy as np

from gradstack.tensor import CACHE_BLOCK, LARGE_CALL, blocks_for, cache_blocks, run_blocks

from .flat import DIRECT_SIZE, FlatGroup, can_flatten, piece_sizes

if TYPE_CHECKING:
    from gradstack.tensor import Tensor

    from ..adam import Adam

_MOMENTS = ("exp_avg", "exp_avg_sq")
ELEMENTWISE_PASSES = 16  # NumPy passes per element of a step: the work ``blocks_for`` weighs
# Elements per cache block of the update: 3.2M parameters on one thread 12.9 -> 10.5-11 ms,
# on two 6.6 -> 6.3 ms (2**16 was as fast on one thread, slower on two: more GIL hand-offs).
ADAM_BLOCK = 2 * CACHE_BLOCK
# Parameters below this are gathered into flat runs when that makes most calls large
# (``_direct_size``): a width-128 GPT's 16K-64K-element weights. Its step after a product
# 2.46-2.53 -> 2.31-2.37 ms, after batch shards (our pool) 3.17-3.29 -> 2.31-2.39 ms.
GATHER_BELOW = 2 * CACHE_BLOCK
# Per optimizer: its flat groups (by group number) and its work buffers (by dtype).
_FLAT_GROUPS: WeakKeyDictionary = WeakKeyDictionary()
_WORK: WeakKeyDictionary = WeakKeyDictionary()


def flat_groups(optimizer: Adam) -> dict[int, FlatGroup]:
    """The flat groups an optimizer has stepped so far, by group number."""
    return _FLAT_GROUPS.setdefault(optimizer, {})


def work_buffer(optimizer: Adam, like: np.ndarray) -> np.ndarray:
    """A work array shaped like ``like``: a view of one buffer kept between steps.

    Sized to the largest parameter or flat group seen, so a step allocates nothing and
    the buffer costs one such array's memory, not one per parameter.
    """
    buffers = _WORK.setdefault(optimizer, {})
    flat = buffers.get(like.dtype)
    if flat is None or flat.size < like.size:
        largest = max(p.data.size for p in optimizer.parameters())
        flat = buffers[like.dtype] = np.empty(max(largest, like.size), dtype=like.dtype)
    return flat[: like.size].reshape(like.shape)


def adam_step(optimizer: Adam) -> None:
    """One Adam/AdamW step of every parameter with a gradient, as the reference's ``step``."""
    first = 0
    for number, group in enumerate(optimizer.param_groups):
        params = group["params"]
        indices = range(first, first + len(params))
        first += len(params)
        if can_flatten(params, [optimizer.state.get(i) for i in indices]):
            states = [optimizer._state_for(i, p) for i, p in zip(indices, params)]
            _step_flat(optimizer, number, group, states)
            continue
        for i, p in zip(indices, params):
            if p.grad is not None:
                state = optimizer._state_for(i, p)
                optimizer._init_moments(p, state)
                state["step"] += 1
                _update(optimizer, p.data, p.grad.data, state, group)


def _step_flat(optimizer: Adam, number: int, group: dict, states: list[dict]) -> None:
    """Update a whole group at once: its moments live in flat buffers; small parameters are
    gathered into flat vectors and updated together, large ones in place (a 3.2M-parameter
    GPT's step spent 5.5 of 15.6 ms copying every gradient and value in and back out)."""
    params = group["params"]
    groups = flat_groups(optimizer)
    flat = groups.get(number)
    if flat is None or not flat.is_current(params, states):
        flat = FlatGroup(params, states, _MOMENTS, direct_size=_direct_size(params))
        groups[number] = flat
    for state in states:
        state["step"] += 1
    work = work_buffer(optimizer, flat.param)
    step = states[0]["step"]

    def run(first: int, end: int) -> None:
        """Update parameters ``first .. end - 1``: large ones in place, runs of small ones
        gathered into the flat vectors and scattered back."""
        for lo, hi, direct in flat.segments(first, end):
            span = flat.span(lo, hi)
            if direct:  # one large parameter: its own arrays, no copies
                p = flat.params[lo]
                param, grad = p.data.reshape(-1), p.grad.data.reshape(-1)
            else:
                flat.gather(lo, hi)
                param, grad = flat.param[span], flat.grad[span]
            moments = {name: buf[span] for name, buf in flat.buffers.items()}
            for block in cache_blocks(span.stop - span.start, ADAM_BLOCK):  # stays in L2
                state = {"step": step, **{name: m[block] for name, m in moments.items()}}
                part = slice(span.start + block.start, span.start + block.stop)
                _update(optimizer, param[block], grad[block], state, group, work[part])
            if not direct:
                flat.scatter(lo, hi)

    blocks = blocks_for(flat.bounds[-1], flat.bounds[-1] * ELEMENTWISE_PASSES)
    large_calls = _mostly_large(flat.piece_sizes(ADAM_BLOCK))
    run_blocks(run, flat.split(len(blocks)), large_calls=large_calls)


def _direct_size(params: list[Tensor]) -> int:
    """Update medium parameters on their own arrays, unless gathering them makes calls large."""
    for direct_size in (DIRECT_SIZE, GATHER_BELOW):
        if _mostly_large(piece_sizes(params, direct_size, ADAM_BLOCK)):
            return direct_size
    return DIRECT_SIZE


def _mostly_large(pieces: list[int]) -> bool:
    """Whether most elements are updated in NumPy calls of ``LARGE_CALL`` elements or more."""
    return 2 * sum(size for size in pieces if size >= LARGE_CALL) >= sum(pieces)


def _update(
    optimizer: Adam,
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    group: dict,
    work: np.ndarray | None = None,
) -> None:
    """The reference's arithmetic, in place: one work buffer, no temporary arrays."""
    lr, eps, decay = group["lr"], group["eps"], group["weight_decay"]
    beta1, beta2 = group["betas"]
    step = state["step"]
    m, v = state["exp_avg"], state["exp_avg_sq"]
    work = work_buffer(optimizer, param) if work is None else work
    if decay and optimizer.decoupled:
        param *= 1 - lr * decay
    elif decay:
        grad = grad + decay * param
    m *= beta1
    np.multiply(grad, 1 - beta1, out=work)
    m += work  # beta1 m + (1 - beta1) g
    v *= beta2
    np.multiply(grad, grad, out=work)
    work *= 1 - beta2
    v += work  # beta2 v + (1 - beta2) g**2
    step_size = lr / (1 - beta1**step)
    np.sqrt(v, out=work)
    work /= math.sqrt(1 - beta2**step)
    work += eps  # sqrt(v_hat) + eps
    np.divide(m, work, out=work)
    work *= step_size
    param -= work
