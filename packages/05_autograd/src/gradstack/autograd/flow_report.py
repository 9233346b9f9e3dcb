"""The gradient-flow report: after a backward, did every parameter get a healthy gradient?

One row per parameter of a module: its gradient's norm, that norm relative to the weight's,
the fraction of exact zeros, and flags for the failure modes the regression suites guard
against: a parameter that got no gradient (``no grad``: detached, unused, or the graph cut
by a ``.data`` or NumPy detour), one whose gradient is all zeros (``all zero``), one with
NaN or infinity (``non-finite``), and norms far above or below the model's median
(``exploding`` / ``vanishing``). A frozen parameter (``requires_grad=False``) is marked
``frozen`` and is not a problem.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gradstack.layers import Module

NO_GRAD = "no grad"
ALL_ZERO = "all zero"
NON_FINITE = "non-finite"
EXPLODING = "exploding"
VANISHING = "vanishing"
FROZEN = "frozen"
PROBLEMS = (NO_GRAD, ALL_ZERO, NON_FINITE, EXPLODING, VANISHING)


@dataclass(frozen=True)
class FlowRow:
    """One parameter: its gradient's size and what looks wrong with it."""

    name: str
    shape: tuple[int, ...]
    has_grad: bool
    grad_norm: float | None
    weight_norm: float
    relative_norm: float | None
    zero_fraction: float | None
    flags: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """No flag that signals a problem."""
        return not any(flag in PROBLEMS for flag in self.flags)


@dataclass(frozen=True)
class FlowReport:
    """The rows of a flow report, as data (``rows``, ``as_dicts()``) and as a table."""

    rows: tuple[FlowRow, ...]
    median_rms: float | None

    def __iter__(self) -> Iterator[FlowRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def ok(self) -> bool:
        """Every parameter got a finite, non-zero gradient of a sensible size."""
        return all(row.ok for row in self.rows)

    def problems(self) -> list[FlowRow]:
        """The rows with a problem flag."""
        return [row for row in self.rows if not row.ok]

    def with_grad(self) -> int:
        """How many parameters received a gradient."""
        return sum(row.has_grad for row in self.rows)

    def as_dicts(self) -> list[dict[str, Any]]:
        """JSON-ready rows (non-finite numbers become None; the flags say why)."""
        records = []
        for row in self.rows:
            record = asdict(row)
            record["shape"] = list(row.shape)
            record["flags"] = list(row.flags)
            for key in ("grad_norm", "weight_norm", "relative_norm", "zero_fraction"):
                value = record[key]
                if value is not None and not math.isfinite(value):
                    record[key] = None
            records.append(record)
        return records

    def summary(self) -> str:
        """One line: how many parameters got gradients and which have problems."""
        bad = self.problems()
        listed = ", ".join(f"{row.name} ({'; '.join(row.flags)})" for row in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        verdict = f"flagged: {listed}{more}" if bad else "nothing flagged"
        return f"{self.with_grad()}/{len(self.rows)} parameter tensors have gradients; {verdict}"

    def table(self) -> str:
        """A printable table, one line per parameter, and the summary line."""
        width = max([len("parameter")] + [len(row.name) for row in self.rows])
        header = (
            f"{'parameter':<{width}}  {'shape':<14} {'grad':>4}  {'|grad|':>9}  "
            f"{'|grad|/|w|':>10}  {'zeros':>6}  flags"
        )
        lines = [header, "-" * len(header)]
        for row in self.rows:
            lines.append(
                f"{row.name:<{width}}  {str(row.shape):<14} {'yes' if row.has_grad else 'no':>4}  "
                f"{_number(row.grad_norm):>9}  {_number(row.relative_norm):>10}  "
                f"{_percent(row.zero_fraction):>6}  {', '.join(row.flags)}".rstrip()
            )
        lines.append(self.summary())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2e}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _measure(name: str, param: Any) -> tuple[FlowRow, float | None]:
    """A row without the median-based flags, and the gradient's RMS (None: not comparable)."""
    weight = np.asarray(param.data, dtype=np.float64)
    weight_norm = float(np.linalg.norm(weight.ravel()))
    shape = tuple(param.shape)
    if not param.requires_grad:
        return FlowRow(
            name, shape, param.grad is not None, None, weight_norm, None, None, (FROZEN,)
        ), None
    if param.grad is None:
        return FlowRow(name, shape, False, None, weight_norm, None, None, (NO_GRAD,)), None
    grad = np.asarray(param.grad.data, dtype=np.float64)
    flags: list[str] = []
    finite = bool(np.isfinite(grad).all())
    zeros = float(np.count_nonzero(grad == 0)) / max(grad.size, 1)
    norm = float(np.linalg.norm(grad.ravel()))
    if not finite:
        flags.append(NON_FINITE)
    elif zeros == 1.0:
        flags.append(ALL_ZERO)
    relative = norm / weight_norm if weight_norm > 0 else None
    rms = norm / math.sqrt(max(grad.size, 1)) if finite and zeros < 1.0 else None
    return FlowRow(name, shape, True, norm, weight_norm, relative, zeros, tuple(flags)), rms


def flow_report(module: Module, explode: float = 1e3, vanish: float = 1e-3) -> FlowReport:
    """Check every parameter's gradient after a backward pass, one row per parameter.

    A gradient's root-mean-square above ``explode`` times the median over the model's
    parameters is flagged ``exploding``; below ``vanish`` times it, ``vanishing``.
    """
    if not isinstance(module, Module):
        raise TypeError(f"flow_report: expects a Module, got {type(module).__name__}")
    if not (explode > 1 and 0 < vanish < 1):
        raise ValueError(
            f"flow_report: need explode > 1 and 0 < vanish < 1, got {explode} and {vanish}"
        )
    measured = [_measure(name, param) for name, param in module.named_parameters()]
    sizes = [rms for _, rms in measured if rms is not None]
    median = float(np.median(sizes)) if sizes else None
    rows = []
    for row, rms in measured:
        flags = row.flags
        if rms is not None and median:
            if rms > explode * median:
                flags += (EXPLODING,)
            elif rms < vanish * median:
                flags += (VANISHING,)
        rows.append(
            FlowRow(
                row.name,
                row.shape,
                row.has_grad,
                row.grad_norm,
                row.weight_norm,
                row.relative_norm,
                row.zero_fraction,
                flags,
            )
        )
    return FlowReport(tuple(rows), median)
