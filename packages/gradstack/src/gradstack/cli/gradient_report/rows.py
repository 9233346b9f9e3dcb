"""A module's rows: its tables' cases run and grouped by component, exceptions as failures."""

from __future__ import annotations

import importlib
import importlib.util
import math
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from .row import Row


def _note(error: BaseException) -> str:
    """A short description of an exception raised by a check."""
    return f"{type(error).__name__}: {error}".splitlines()[0][:120]


def _table(module: str, name: str) -> ModuleType | None:
    """``gradstack.<module>.<name>`` if the module has that table, else None."""
    full = f"gradstack.{module}.{name}"
    if importlib.util.find_spec(full) is None:
        return None
    return importlib.import_module(full)


def _grouped(module: str, cases: Iterable[Any]) -> dict[str, Row]:
    """One empty row per component, in the order the table lists them."""
    rows: dict[str, Row] = {}
    for case in cases:
        rows.setdefault(case.component, Row(module, case.component, 0, 0))
    return rows


def _record(row: Row, run: Callable[[], tuple[bool, float, str]]) -> None:
    """Run one check and count it in ``row``; an exception is a failed check with a note."""
    row.total += 1
    try:
        passed, error, note = run()
    except Exception as failure:  # noqa: BLE001 (a broken case is a failed check, not a crash)
        row.flow, row.worst_rel = False, math.nan
        row.note = row.note or _note(failure)
        return
    if not math.isnan(row.worst_rel):
        row.worst_rel = max(row.worst_rel, error)
    if passed:
        row.passed += 1
    else:
        row.flow = row.flow and "no gradient reaches" not in note
        row.note = row.note or note


def gradient_rows(module: str, table: ModuleType, torch: ModuleType | None) -> list[Row]:
    """Rows of a ``gradcheck_cases`` table, plus one PyTorch row when ``torch`` is given."""
    from gradstack.autograd import compare_with_torch, run_case

    rows = _grouped(module, table.GRADCHECK_CASES)
    for case in table.GRADCHECK_CASES:

        def run(case: Any = case) -> tuple[bool, float, str]:
            result = run_case(case)
            return result.passed, result.max_rel_error, result.note

        _record(rows[case.component], run)
    found = list(rows.values())
    if torch is not None and table.TORCH_CASES:
        torch_row = Row(module, "matches PyTorch", 0, 0)
        for case in table.TORCH_CASES:

            def compare(case: Any = case) -> tuple[bool, float, str]:
                results = compare_with_torch(case, torch)
                bad = [r.what for r in results if not r.same]
                note = f"{case.label}: {bad[0]} differs from PyTorch" if bad else ""
                return not bad, max(r.rel_error for r in results), note

            _record(torch_row, compare)
        found.append(torch_row)
    return found


def value_rows(module: str, table: ModuleType, torch: ModuleType | None) -> list[Row]:
    """Rows of a ``value_cases`` table; cases needing PyTorch only when it is given."""
    cases = [c for c in table.VALUE_CASES if torch is not None or not c.needs_torch]
    rows = _grouped(module, cases)
    for case in cases:

        def run(case: Any = case) -> tuple[bool, float, str]:
            error = case.run(torch) if case.needs_torch else case.run()
            passed = error <= case.tolerance
            return passed, error, "" if passed else f"{case.label}: error {error:.2e}"

        _record(rows[case.component], run)
    return list(rows.values())


def module_rows(module: str, torch: ModuleType | None) -> list[Row]:
    """Every row of one installed module, from whichever tables it exports."""
    found: list[Row] = []
    gradients = _table(module, "gradcheck_cases")
    if gradients is not None:
        found += gradient_rows(module, gradients, torch)
    values = _table(module, "value_cases")
    if values is not None:
        found += value_rows(module, values, torch)
    if not found:
        found.append(Row(module, "tables", 0, 1, math.nan, False, "exports no check table"))
    return found
