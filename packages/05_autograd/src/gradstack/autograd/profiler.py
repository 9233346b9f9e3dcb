"""The op profiler: where a step's time goes, op by op, forward and backward.

``with profile() as prof:`` times every op's forward (through ``gradstack.tensor``'s op hook)
and every node's backward (the engine asks ``active()`` before each rule), and keeps, per
name, the calls, total and mean time, and the bytes of what was produced. ``prof.table()``
prints the rows sorted by time, like PyTorch's ``prof.key_averages().table()``.

When no profile is open the cost is one ``is not None`` check per op and per node. Times
are wall-clock (``time.perf_counter``); a profile covers every thread, and work done by
threads at once (``data_parallel_backward``) adds up to more than the wall time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np

from gradstack.tensor import Node, Op, Tensor, apply, set_op_hook

_active: profile | None = None
_SORT_KEYS = ("total", "mean", "calls", "bytes")


def active() -> profile | None:
    """The open profile, or None (the engine's one check per node)."""
    return _active


@dataclass(frozen=True)
class ProfileRow:
    """Totals for one name: an op's forward (``linear``) or a backward (``LinearBackward``)."""

    name: str
    kind: str
    calls: int
    total: float
    bytes: int

    @property
    def mean(self) -> float:
        """Seconds per call."""
        return self.total / self.calls


class profile:  # noqa: N801 (a context manager named like PyTorch's torch.profiler.profile)
    """Record each op's forward and each rule's backward while the ``with`` block runs."""

    def __init__(self) -> None:
        self._stats: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._previous_hook: Any = None
        self._started: float | None = None
        self.wall: float = 0.0

    def __enter__(self) -> profile:
        global _active
        if _active is not None:
            raise RuntimeError("profile: a profile is already open; profiles do not nest")
        self._started = perf_counter()
        self._previous_hook = set_op_hook(self._forward)
        _active = self
        return self

    def __exit__(self, *exc: object) -> None:
        global _active
        _active = None
        set_op_hook(self._previous_hook)
        self.wall += perf_counter() - (self._started or perf_counter())
        self._started = None

    def _record(self, name: str, kind: str, seconds: float, nbytes: int) -> None:
        with self._lock:
            entry = self._stats.setdefault((name, kind), [0, 0.0, 0])
            entry[0] += 1
            entry[1] += seconds
            entry[2] += nbytes

    def _forward(self, op: Op, inputs: tuple[Tensor, ...], attrs: dict[str, Any]) -> Tensor | None:
        """The op hook: time ``apply`` by calling it again, answering None to that inner call."""
        local = self._local
        if getattr(local, "inside", False):
            return None
        local.inside = True
        try:
            start = perf_counter()
            out = apply(op, *inputs, **attrs)
            elapsed = perf_counter() - start
        finally:
            local.inside = False
        self._record(op.name, "forward", elapsed, out.data.nbytes)
        return out

    def backward(
        self, node: Node, propagate: Callable[..., None], grad: np.ndarray, *args: Any
    ) -> None:
        """Time one node's backward (its rule and the routing of what it returns)."""
        nbytes = sum(
            t.data.nbytes for t, needed in zip(node.inputs, node.needs_input_grad) if needed
        )
        name = node.name()
        start = perf_counter()
        propagate(node, grad, *args)
        self._record(name, "backward", perf_counter() - start, nbytes)

    def key_averages(self) -> list[ProfileRow]:
        """One row per name and kind, the most time first."""
        with self._lock:
            rows = [
                ProfileRow(name, kind, int(calls), total, int(nbytes))
                for (name, kind), (calls, total, nbytes) in self._stats.items()
            ]
        return sorted(rows, key=lambda row: row.total, reverse=True)

    @property
    def total(self) -> float:
        """Seconds spent inside recorded ops and rules."""
        return sum(row.total for row in self.key_averages())

    def table(self, sort_by: str = "total", row_limit: int = 20) -> str:
        """The top ``row_limit`` rows by ``sort_by`` (total, mean, calls or bytes), and the
        share of the wall time they cover."""
        if sort_by not in _SORT_KEYS:
            raise ValueError(f"profile.table: sort_by must be one of {_SORT_KEYS}, got {sort_by!r}")
        rows = sorted(self.key_averages(), key=lambda row: getattr(row, sort_by), reverse=True)
        wall = self.wall if self._started is None else perf_counter() - self._started
        width = max([len("name")] + [len(row.name) for row in rows[:row_limit]])
        header = (
            f"{'name':<{width}}  {'kind':<8} {'calls':>6} {'total ms':>9} {'mean us':>9} "
            f"{'share':>6} {'out MB':>8}"
        )
        lines = [header, "-" * len(header)]
        for row in rows[:row_limit]:
            share = row.total / wall if wall > 0 else 0.0
            lines.append(
                f"{row.name:<{width}}  {row.kind:<8} {row.calls:>6} {row.total * 1e3:>9.2f} "
                f"{row.mean * 1e6:>9.1f} {100 * share:>5.1f}% {row.bytes / 1e6:>8.2f}"
            )
        if len(rows) > row_limit:
            lines.append(f"... {len(rows) - row_limit} more rows")
        covered = sum(row.total for row in rows)
        rest = (
            "threads ran at once"
            if covered > wall
            else "the rest is Python between ops, the engine's walk and work that is not an op "
            "(an optimizer step)"
        )
        lines.append(
            f"recorded: {covered * 1e3:.2f} ms of {wall * 1e3:.2f} ms wall "
            f"({100 * covered / wall if wall > 0 else 0.0:.1f}%); {rest}"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()
