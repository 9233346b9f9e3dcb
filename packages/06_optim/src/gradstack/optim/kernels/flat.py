"""A parameter group stepped as one flat vector: one NumPy call per operation, not one per tensor.

A GPT has dozens of small parameter tensors, and Adam's update is about a dozen NumPy
calls per tensor, so stepping tensor by tensor is mostly call overhead (bench/README.md
has the figures). A ``FlatGroup`` keeps each state
buffer of a group (Adam's two moments) in one flat array, makes every parameter's
state entry a view into it, and for each step gathers the gradients and parameters
into flat vectors; the optimizer runs its usual update once on them, and
``scatter`` writes the parameters back. Elementwise arithmetic does not depend on how
the elements are grouped, so the results equal the tensor-by-tensor update bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradstack.tensor import Tensor, cache_blocks

# A parameter this large is updated on its own arrays: its dozen NumPy calls are cheap
# beside its work, and copying it into the flat vectors and back would cost two passes.
DIRECT_SIZE = 1 << 14


def can_flatten(params: Sequence[Tensor], states: Sequence[dict[str, Any] | None]) -> bool:
    """Whether a group can step as one: all parameters have gradients, one dtype, one step count."""
    if len(params) < 2 or any(p.grad is None for p in params):
        return False
    if len({p.data.dtype for p in params}) != 1:
        return False
    steps = {None if state is None else state["step"] for state in states}
    return len(steps) == 1


def segments(
    params: Sequence[Tensor], direct_size: int, first: int = 0, end: int | None = None
) -> list[tuple[int, int, bool]]:
    """Parameters ``first .. end - 1`` as ``(lo, hi, direct)`` runs: ``direct`` marks one
    parameter of at least ``direct_size`` elements, contiguous, that can be updated on
    its own arrays; the others come in runs of neighbours to gather and scatter."""
    runs: list[tuple[int, int, bool]] = []
    for index in range(first, len(params) if end is None else end):
        p = params[index]
        direct = p.data.size >= direct_size and p.data.flags.c_contiguous
        if direct:
            runs.append((index, index + 1, True))
        elif runs and not runs[-1][2]:
            runs[-1] = (runs[-1][0], index + 1, False)
        else:
            runs.append((index, index + 1, False))
    return runs


def piece_sizes(params: Sequence[Tensor], direct_size: int, block: int) -> list[int]:
    """Sizes of the pieces an update of all ``params`` makes: its runs in ``cache_blocks``."""
    sizes = []
    for lo, hi, _ in segments(params, direct_size):
        run = sum(p.data.size for p in params[lo:hi])
        sizes += [piece.stop - piece.start for piece in cache_blocks(run, block)]
    return sizes


class FlatGroup:
    """Flat state buffers for one group, with per-parameter views, and gather/scatter vectors."""

    def __init__(
        self,
        params: Sequence[Tensor],
        states: Sequence[dict[str, Any]],
        names: Sequence[str],
        direct_size: int = DIRECT_SIZE,
    ) -> None:
        self.params = list(params)
        self.direct_size = direct_size
        self.bounds = np.cumsum([0, *(p.data.size for p in params)]).tolist()
        dtype = params[0].data.dtype
        self.param = np.empty(self.bounds[-1], dtype=dtype)
        self.grad = np.empty(self.bounds[-1], dtype=dtype)
        self.buffers: dict[str, np.ndarray] = {}
        self.views: dict[str, list[np.ndarray]] = {}
        self._pieces: dict[int, list[int]] = {}
        for name in names:
            self._adopt(name, states)

    def _slices(self):
        """(parameter, start, stop) for each parameter's stretch of the flat vectors."""
        return zip(self.params, self.bounds, self.bounds[1:])

    def _adopt(self, name: str, states: Sequence[dict[str, Any]]) -> None:
        """One flat buffer holding every parameter's ``name`` entry; the entries become views."""
        flat = self.buffers[name] = np.zeros(self.bounds[-1], dtype=self.param.dtype)
        views = self.views[name] = []
        for (p, start, stop), state in zip(self._slices(), states):
            view = flat[start:stop].reshape(p.data.shape)
            if name in state:
                np.copyto(view, state[name])
            state[name] = view
            views.append(view)

    def is_current(self, params: Sequence[Tensor], states: Sequence[dict[str, Any]]) -> bool:
        """Same parameters, and every state entry is still one of this group's views.

        ``load_state_dict`` (or a user) may replace state arrays; then the group is rebuilt.
        """
        if len(params) != len(self.params) or any(a is not b for a, b in zip(params, self.params)):
            return False
        return all(
            state.get(name) is view
            for name, views in self.views.items()
            for state, view in zip(states, views)
        )

    def split(self, count: int) -> list[tuple[int, int]]:
        """``count`` runs of whole parameters ``(first, end)`` with about equal elements each."""
        total = self.bounds[-1]
        cuts = [0]
        for part in range(1, count):
            target = total * part / count
            cut = int(np.searchsorted(self.bounds, target))  # first boundary at or past it
            if cut > 0 and target - self.bounds[cut - 1] < self.bounds[cut] - target:
                cut -= 1  # the boundary before it is nearer
            cuts.append(min(max(cut, cuts[-1]), len(self.params)))
        cuts.append(len(self.params))
        return [(lo, hi) for lo, hi in zip(cuts, cuts[1:]) if hi > lo]

    def segments(self, first: int, end: int) -> list[tuple[int, int, bool]]:
        """Parameters ``first .. end - 1`` as ``(lo, hi, direct)`` runs (see ``segments``)."""
        return segments(self.params, self.direct_size, first, end)

    def piece_sizes(self, block: int) -> list[int]:
        """Sizes of the pieces an update of every parameter in runs of at most ``block`` makes."""
        if block not in self._pieces:
            self._pieces[block] = piece_sizes(self.params, self.direct_size, block)
        return self._pieces[block]

    def span(self, first: int, end: int) -> slice:
        """The stretch of the flat vectors that parameters ``first .. end - 1`` occupy."""
        return slice(self.bounds[first], self.bounds[end])

    def gather(self, first: int = 0, end: int | None = None) -> None:
        """Copy gradients and values of parameters ``first .. end - 1`` into the flat vectors."""
        params = self.params[first:end]
        span = self.span(first, len(self.params) if end is None else end)
        np.concatenate([p.grad.data.reshape(-1) for p in params], out=self.grad[span])
        np.concatenate([p.data.reshape(-1) for p in params], out=self.param[span])

    def scatter(self, first: int = 0, end: int | None = None) -> None:
        """Write the updated flat values of parameters ``first .. end - 1`` back to their arrays."""
        for p, start, stop in list(self._slices())[first:end]:
            np.copyto(p.data, self.param[start:stop].reshape(p.data.shape))
