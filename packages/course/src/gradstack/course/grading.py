"""``gradstack course test`` and ``status``: run the reference tests on a student's module.

``test`` runs two tox environments of the reference checkout with the student's copy
in place of the reference module: the module's own tests (``tox -e NN_name``) and the
integration and regression tests (``tox -e integration``), which put every later
module on top of the student's. ``status`` runs each copy's own tests only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import UsageError
from .modules import CourseModule, course_modules, project_name
from .results import (
    FAILED,
    PASSED,
    TestResult,
    fill_collection_errors,
    number,
    parse_junit,
    percent,
    score,
)
from .toxrun import run_tests, run_tox

INTEGRATION = "integration"
MESSAGE_WIDTH = 160


def progress(text: str) -> None:
    """A progress line on stderr (stdout carries the results)."""
    print(text, file=sys.stderr, flush=True)


@contextmanager
def work_folder(path: str | None) -> Iterator[Path]:
    """``--workdir`` (created, kept) or a temporary folder removed afterwards."""
    if path is not None:
        folder = Path(path).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="gradstack-course-") as temporary:
        yield Path(temporary)


def reference_manifest(
    repo: Path, workdir: Path, env: str, timeout: float | None
) -> list[tuple[str, float]] | None:
    """The reference's tests of ``env`` with their points (None if they cannot be collected)."""
    path = workdir / f"{env}.manifest.json"
    path.unlink(missing_ok=True)
    args = ["--collect-only", "-q", "-p", "no:cacheprovider", f"--points-manifest={path}"]
    try:
        run_tox(repo, workdir, env, args, {}, timeout)
    except subprocess.TimeoutExpired:
        return None
    if not path.is_file():
        return None
    return [(t["nodeid"], t["points"]) for t in json.loads(path.read_text())["tests"]]


def run_suite(
    repo: Path,
    workdir: Path,
    env: str,
    swaps: dict[str, Path],
    timeout: float | None,
) -> list[TestResult]:
    """One tox environment's results; files that failed to import count all their tests."""
    junit = workdir / f"{env}.xml"
    started = time.monotonic()
    run_tests(repo, workdir, env, swaps, junit, timeout)
    results, errors = parse_junit(junit, env)
    if errors:
        progress(
            f"  {len(errors)} test file(s) could not be imported; collecting the reference's "
            "tests to count theirs"
        )
        manifest = reference_manifest(repo, workdir, env, timeout)
        results = fill_collection_errors(results, errors, manifest, env)
    earned, possible = score(results)
    progress(
        f"  {env}: {number(earned)}/{number(possible)} points ({time.monotonic() - started:.0f} s)"
    )
    return results


def grade(
    repo: Path,
    module: CourseModule,
    student: Path,
    workdir: Path,
    timeout: float | None,
) -> list[TestResult]:
    """Results of the module's own tests and the integration tests on the student's copy."""
    swaps = {module.env_var: student}
    results = []
    for index, (env, tests) in enumerate(
        [(module.name, f"packages/{module.name}/tests"), (INTEGRATION, "tests/")], start=1
    ):
        progress(
            f"[{index}/2] tox -e {env}: the reference's {tests} with {module.distribution} "
            f"from {student}"
        )
        results += run_suite(repo, workdir, env, swaps, timeout)
    return results


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


def summary(module: CourseModule, student: Path, results: list[TestResult]) -> str:
    """Counts and the score line, ``Score: X/Y (Z%)``."""
    earned, possible = score(results)
    counts = {
        outcome: sum(r.outcome == outcome for r in results)
        for outcome in (PASSED, FAILED, "skipped")
    }
    free = sum(r.points == 0 for r in results if r.scored)
    worthless = f"; {free} of the tests are worth no points" if free else ""
    return (
        f"{module.name} from {student}: {counts[PASSED]} passed, {counts[FAILED]} failed, "
        f"{counts['skipped']} skipped (not scored){worthless}\n"
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
    progress(f"tox -e {module.name}: the reference's tests with {module.distribution} from {copy}")
    results = run_suite(repo, workdir, module.name, {module.env_var: copy}, timeout)
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
