"""``gradstack course test`` and ``status``: the reference tests run on a student's copy.

Each suite (the module's own tests, then ``tests/``: the integration and regression tests
that put every later module on top of the student's) runs in its own throwaway sandbox
(runner.py) in the module's prepared environment (environment.py). What counts:

- the tests and their points are the reference's: the same suites run once on the
  reference module (cached per work folder), and the tests that pass there are the ones
  scored; tests that skip there (torch) are not scored;
- a scored test earns its points only when the grader's plugin reported it passed; a
  failure, an error, a skip, a test never reported (a file that failed to import, a
  process that ended early or ran out of time) is failed;
- a submission that reaches for the test machinery is flagged "needs review": in its
  source (review.py) or at run time (the plugin saw pytest, builtins or sys.modules
  changed, a test's code replaced, a plugin registered; the reference copy was written
  to; the process ended before pytest finished). When the run itself was tampered with,
  none of its results is trusted: every test of that suite counts as failed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .environment import Prepared, distribution_of
from .errors import GradingError, UsageError
from .modules import CourseModule, course_modules, project_name
from .results import (
    FAILED,
    PASSED,
    SKIPPED,
    TestResult,
    error_line,
    number,
    percent,
    score,
    shorten,
)
from .review import scan_copy
from .runner import SuiteRun, final_outcome, prepare_sandbox, reference_changes, run_suite
from .sandbox import remove

INTEGRATION = "integration"
WORKDIR_VARIABLE = "GRADSTACK_COURSE_WORKDIR"
MESSAGE_WIDTH = 160


def progress(text: str) -> None:
    """A progress line on stderr (stdout carries the results)."""
    print(text, file=sys.stderr, flush=True)


@contextmanager
def work_folder(path: str | None) -> Iterator[Path]:
    """``--workdir`` or ``$GRADSTACK_COURSE_WORKDIR`` (created, kept), else a temporary
    folder removed afterwards."""
    path = path or os.environ.get(WORKDIR_VARIABLE) or None
    if path is not None:
        folder = Path(path).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="gradstack-course-"))
    try:
        yield folder
    finally:
        remove(folder)


@dataclass
class Grading:
    """The results of one copy, and why it needs review (empty: it does not)."""

    results: list[TestResult]
    review: list[str] = field(default_factory=list)


def suites_of(module: CourseModule, own_only: bool = False) -> list[str]:
    """The suites a grading runs: the module's own tests, then the integration tests."""
    return [module.name] if own_only else [module.name, INTEGRATION]


def _sandboxed(
    prepared: Prepared, python: Path, module: CourseModule, copy: Path, suite: str,
    timeout: float | None,
) -> tuple[SuiteRun, list[str]]:  # fmt: skip
    """One suite in a fresh sandbox, removed afterwards; the run and the files it changed."""
    sandbox = Path(tempfile.mkdtemp(prefix=f"gradstack-sandbox-{module.name}-"))
    try:
        before = prepare_sandbox(prepared, copy, sandbox)
        run = run_suite(python, module, suite, sandbox, timeout)
        return run, reference_changes(before, sandbox)
    finally:
        remove(sandbox)


def _baseline(
    prepared: Prepared, python: Path, module: CourseModule, suites: list[str],
    timeout: float | None, report: Callable[[str], None],
) -> dict[str, dict[str, dict]]:  # fmt: skip
    """Per suite, the reference's tests: nodeid -> outcome, points, message (cached)."""
    path = prepared.workdir / "baselines" / f"{module.name}.json"
    key = prepared.reference_hash()
    stored = json.loads(path.read_text()) if path.is_file() else {}
    if stored.get("reference") == key and all(s in stored["suites"] for s in suites):
        return stored["suites"]
    found = dict(stored.get("suites", {})) if stored.get("reference") == key else {}
    for suite in suites:
        if suite in found:
            continue
        progress(
            f"  {suite}: running the reference's tests on the reference (once per work folder)"
        )
        run, changed = _sandboxed(
            prepared, python, module, prepared.reference / "packages" / module.name, suite, timeout
        )
        problems = run.tamper + changed + ([] if run.finished is not None else ["no finish"])
        problems += [f"cannot import {name}" for name in run.collect_errors]
        if problems:
            raise GradingError(
                f"the reference's own {suite} run is not clean ({'; '.join(problems)}); "
                f"its last lines:\n{run.log_tail}"
            )
        found[suite] = {
            nodeid: {
                "outcome": final_outcome(reports),
                "points": reports[0].get("points", 1),
                "message": next((r.get("message") for r in reports if r.get("message")), ""),
            }
            for nodeid, reports in run.reports.items()
        }
    broken = [n for tests in found.values() for n, r in tests.items() if r["outcome"] == FAILED]
    if broken:
        report(f"  warning: {len(broken)} test(s) fail on the reference itself (not scored): "
                 f"{', '.join(broken[:3])}")  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"reference": key, "suites": found}, indent=1))
    return found


def _file_of(nodeid: str) -> str:
    """The test file part of a node id."""
    return nodeid.split("::", 1)[0]


def _why_not_reported(run: SuiteRun, nodeid: str, timeout: float | None) -> tuple[str, str]:
    """Message and details for a scored test the run never reported."""
    errors = {_file_of(k): v for k, v in run.collect_errors.items()}
    details = errors.get(_file_of(nodeid))
    if details is not None:
        line = error_line(details, "collection failure")
        return f"not run: its test file could not be imported: {line}", shorten(details)
    if run.timed_out:
        return f"not run: the tests did not finish within {timeout:g} s", run.log_tail
    if run.finished is None:
        return (
            f"not run: the test process ended before pytest finished (exit code {run.returncode})",
            run.log_tail,
        )
    return "not run: the reference's test was not reported in this run", ""


def score_suite(
    expected: dict[str, dict], run: SuiteRun, distrusted: bool, timeout: float | None
) -> list[TestResult]:
    """The reference's tests of one suite, scored by what the probe reported for each."""
    results = []
    for nodeid, reference in expected.items():
        points = reference["points"]
        if reference["outcome"] != PASSED:
            why = reference["message"] or f"{reference['outcome']} on the reference"
            results.append(TestResult(run.suite, nodeid, SKIPPED, points, why))
            continue
        reports = run.reports.get(nodeid)
        if distrusted:
            message = "not trusted: the test machinery was changed during this run (needs review)"
            results.append(TestResult(run.suite, nodeid, FAILED, points, message))
        elif reports is None:
            message, details = _why_not_reported(run, nodeid, timeout)
            results.append(TestResult(run.suite, nodeid, FAILED, points, message, details))
        elif final_outcome(reports) == PASSED:
            results.append(TestResult(run.suite, nodeid, PASSED, points))
        else:
            details = "\n".join(r.get("details", "") for r in reports if r.get("details"))
            message = error_line(details, "") or next(
                (f"skipped here, passes on the reference: {r.get('message')}" for r in reports
                 if r.get("outcome") == SKIPPED), "failed")  # fmt: skip
            results.append(TestResult(run.suite, nodeid, FAILED, points, message, shorten(details)))
    return results


def prepare_module(
    repo: Path, module: CourseModule, workdir: Path, timeout: float | None,
    own_only: bool = False, report: Callable[[str], None] = progress,
) -> tuple[Prepared, Path, dict[str, dict[str, dict]]]:  # fmt: skip
    """The work folder made ready for a module: its environment and the reference's results."""
    prepared = Prepared(repo, workdir)
    prepared.refresh()
    python = prepared.python(module)
    baseline = _baseline(prepared, python, module, suites_of(module, own_only), timeout, report)
    return prepared, python, baseline


def grade(
    repo: Path,
    module: CourseModule,
    student: Path,
    workdir: Path,
    timeout: float | None,
    own_only: bool = False,
    report: Callable[[str], None] = progress,
    limit: float | None = None,
) -> Grading:
    """The reference's tests run on the student's copy, scored, with review flags.

    ``timeout`` bounds each suite, ``limit`` (if given) the whole grading.
    """
    distribution_of(student)  # a copy without a readable version fails before any build
    prepared, python, baseline = prepare_module(repo, module, workdir, timeout, own_only, report)
    suites = suites_of(module, own_only)
    grading = Grading([], scan_copy(student))
    deadline = None if limit is None else time.monotonic() + limit
    for index, suite in enumerate(suites, start=1):
        started = time.monotonic()
        report(f"[{index}/{len(suites)}] {suite}: the reference's tests on {student}")
        allowed = timeout
        if deadline is not None:
            remaining = max(deadline - started, 1.0)
            allowed = remaining if allowed is None else min(allowed, remaining)
        run, changed = _sandboxed(prepared, python, module, student, suite, allowed)
        shared = prepared.changed_reference()
        flags = list(run.tamper)
        flags += [f"wrote into the reference copy: {', '.join(changed[:5])}"] if changed else []
        flags += [f"changed the shared reference: {', '.join(shared[:5])}"] if shared else []
        if run.finished is None and not run.timed_out:
            flags.append(
                f"the test process ended before pytest finished (exit code {run.returncode})"
            )
        tampered = bool(run.tamper or changed or shared)
        results = score_suite(baseline[suite], run, tampered, allowed)
        grading.results += results
        grading.review += [f"{suite}: {flag}" for flag in flags]
        earned, possible = score(results)
        took = time.monotonic() - started
        report(f"  {suite}: {number(earned)}/{number(possible)} points ({took:.1f} s)")
    return grading


def _first_line(text: str) -> str:
    """The first line of ``text``, cut to MESSAGE_WIDTH characters."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= MESSAGE_WIDTH else line[: MESSAGE_WIDTH - 3] + "..."


def format_table(results: list[TestResult]) -> str:
    """Per suite, one row per test (points, outcome, id) and the failure's first line."""
    rows = []
    suites = list(dict.fromkeys(r.suite for r in results))
    for suite in suites:
        members = [r for r in results if r.suite == suite]
        earned, possible = score(members)
        rows.append(f"{suite}: {number(earned)}/{number(possible)} points")
        rows.append(f"  {'points':>7}  {'result':<7}  test")
        for r in members:
            points = f"{number(r.earned)}/{number(r.points)}" if r.scored else "-"
            rows.append(f"  {points:>7}  {r.outcome:<7}  {r.name}")
            if r.outcome == FAILED:
                rows.append(f"  {'':>7}  {'':<7}    {_first_line(r.message)}")
        rows.append("")
    return "\n".join(rows)


def summary(
    module: CourseModule, student: Path, results: list[TestResult], review: list[str] = ()
) -> str:
    """Counts, the review flags, and the score line, ``Score: X/Y (Z%)``."""
    earned, possible = score(results)
    counts = {
        outcome: sum(r.outcome == outcome for r in results)
        for outcome in (PASSED, FAILED, "skipped")
    }
    free = sum(r.points == 0 for r in results if r.scored)
    worthless = f"; {free} of the tests are worth no points" if free else ""
    flagged = "".join(f"NEEDS REVIEW: {reason}\n" for reason in review)
    return (
        f"{module.name} from {student}: {counts[PASSED]} passed, {counts[FAILED]} failed, "
        f"{counts['skipped']} skipped (not scored){worthless}\n{flagged}"
        f"Score: {number(earned)}/{number(possible)} ({percent(earned, possible)})"
    )


def find_copies(repo: Path, folder: Path) -> list[tuple[CourseModule, Path]]:
    """The copies of course modules in ``folder`` (it and its sub-folders), in course order."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder")
    modules = {m.distribution: m for m in course_modules(repo)}
    found: dict[str, Path] = {}
    for candidate in [folder, *sorted(p for p in folder.iterdir() if p.is_dir())]:
        if not (candidate / "pyproject.toml").is_file():
            continue
        name = project_name(candidate)
        if name in modules:
            if name in found:
                raise UsageError(
                    f"{folder}: two copies of {modules[name].name}: {found[name]} and {candidate}"
                )
            found[name] = candidate.resolve()
    if not found:
        raise UsageError(
            f"{folder}: holds no copy of a course module (a folder with a pyproject.toml "
            "naming one of the gradstack-* distributions)"
        )
    return [(m, found[d]) for d, m in modules.items() if d in found]


def module_status(
    repo: Path, workdir: Path, module: CourseModule, copy: Path, timeout: float | None
) -> tuple[int, int]:
    """Passed and scored tests of the module's own suite on the copy."""
    progress(f"{module.name}: the reference's tests on {copy}")
    results = grade(repo, module, copy, workdir, timeout, own_only=True).results
    scored = [r for r in results if r.scored]
    return sum(r.outcome == PASSED for r in scored), len(scored)


def format_status(repo: Path, rows: dict[str, tuple[Path, int, int]]) -> str:
    """One line per course module: its copy, tests passed, complete or not."""
    lines = [f"{'module':<16}  {'tests passed':>12}  {'status':<14}  copy"]
    for module in course_modules(repo):
        if module.name not in rows:
            lines.append(f"{module.name:<16}  {'-':>12}  {'no copy':<14}  -")
            continue
        copy, passed, total = rows[module.name]
        state = "complete" if passed == total and total else "not complete"
        lines.append(f"{module.name:<16}  {f'{passed}/{total}':>12}  {state:<14}  {copy}")
    complete = sum(p == t and t > 0 for _, p, t in rows.values())
    lines.append(f"{complete} of {len(rows)} module copies complete")
    return "\n".join(lines)
