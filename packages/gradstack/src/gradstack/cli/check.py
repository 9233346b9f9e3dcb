"""``gradstack check``: the check tables of every installed module, run and reported.

Each module exports its cases (``gradstack.<name>.gradcheck_cases``: float64 finite
differences and PyTorch comparisons; ``gradstack.<name>.value_cases``: engine, optimizer
and tokenizer checks with known answers); their own tests run the same tables.
Prints one row per component as it finishes (module, component, gradient flow,
worst relative error, number of checks), then ``N/N checks pass``, then the gradient-flow
report of the seed GPT (every one of its 37 parameter tensors must receive a finite
gradient). Modules that are not installed are listed as such and are not failures; the
exit code is 1 if any check of an installed module fails.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
from types import ModuleType

from .errors import EXIT_FAILED, EXIT_OK
from .gradient_report import CHECKED_MODULES
from .gradient_report.row import Row

WIDTHS = (12, 28, 5, 15, 6)
PASS, FAIL = "✅", "❌"
HEADER = ("module", "component", "flow", "worst rel. err", "checks")


def is_installed(name: str) -> bool:
    """Whether ``gradstack.<name>`` can be found (without importing it)."""
    try:
        return importlib.util.find_spec(f"gradstack.{name}") is not None
    except (ImportError, ValueError):
        return False


def _torch(skip: bool) -> ModuleType | None:
    """PyTorch if it imports and is wanted."""
    if skip:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def _pad(cell: str, width: int) -> str:
    """``cell`` padded to ``width`` terminal columns (the marks are two columns wide)."""
    wide = sum(cell.count(mark) for mark in (PASS, FAIL))
    return cell + " " * max(0, width - len(cell) - wide)


def _line(cells: tuple[str, ...], note: str = "") -> str:
    """One table line with fixed column widths."""
    text = "  ".join(_pad(cell, width) for cell, width in zip(cells, WIDTHS))
    return (text + "  " + note).rstrip()


def _format_row(row: Row) -> str:
    """A result row as a table line."""
    if not row.installed:
        return _line((row.module, "(not installed)", "-", "-", "-"), row.note)
    worst = "n/a" if math.isnan(row.worst_rel) else f"{row.worst_rel:.2e}"
    mark = PASS if row.ok else FAIL
    counts = f"{row.passed}/{row.total}"
    return _line((row.module, row.component, mark, worst, counts), "" if row.ok else row.note)


def _module_rows(name: str, torch: ModuleType | None) -> list[Row]:
    """Rows of one module: its tables' checks, or why they could not run."""
    if not is_installed(name):
        return [Row(name, "", 0, 0, installed=False)]
    try:
        from .gradient_report.rows import module_rows

        return module_rows(name, torch)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if missing.startswith("gradstack.") and not missing.startswith("gradstack.cli"):
            return [Row(name, "", 0, 0, installed=False, note=f"needs {error.name}")]
        return [Row(name, "import", 0, 1, math.nan, False, f"ModuleNotFoundError: {error}")]
    except Exception as error:  # noqa: BLE001 (a module that fails to import is a failure)
        return [Row(name, "import", 0, 1, math.nan, False, f"{type(error).__name__}: {error}")]


def run_check(args: argparse.Namespace) -> int:
    """Run ``gradstack check``; returns 0 when every check passes, 1 otherwise."""
    if not is_installed("autograd"):
        print(
            "gradstack check: gradstack.autograd is not installed; every check needs it "
            "(pip install gradstack-autograd)"
        )
        return EXIT_FAILED
    torch = _torch(args.no_torch)
    comparison = f"with PyTorch {torch.__version__}" if torch else "PyTorch comparisons skipped"
    print(f"gradstack check: float64 central differences ({comparison})\n")
    print(_line(HEADER))
    print(_line(tuple("-" * width for width in WIDTHS)), flush=True)
    passed = total = 0
    all_ok = True
    for name in CHECKED_MODULES:
        for row in _module_rows(name, torch):
            print(_format_row(row), flush=True)
            if row.installed:
                passed += row.passed
                total += row.total
                all_ok = all_ok and row.ok
    print(f"\n{passed}/{total} checks pass")
    flow_ok = _gradient_flow()
    return EXIT_OK if all_ok and passed == total and flow_ok else EXIT_FAILED


def _gradient_flow() -> bool:
    """Print the seed GPT's gradient-flow report; False when a parameter got no gradient."""
    if not is_installed("transformer"):
        print("\ngradient flow: gradstack.transformer is not installed; skipped")
        return True
    from .gradient_flow import receives_gradients, seed_gpt_report

    report = seed_gpt_report()
    print("\ngradient flow of the seed GPT (gradstack.autograd.flow_report):\n")
    print(report.table(), flush=True)
    ok = receives_gradients(report)
    verdict = "receive" if ok else "do NOT all receive"
    print(f"{PASS if ok else FAIL} all {len(report)} GPT parameter tensors {verdict} gradients")
    if any(row.name.endswith("k_proj.bias") and row.flags for row in report):
        print(
            "   (the key projections' bias has a true gradient of zero: softmax ignores a "
            "constant added to a row of scores, so what is left is rounding)"
        )
    return ok
