"""One run of one suite of reference tests on one copy, in its own throwaway folder.

The folder ``SANDBOX`` holds ``ref/`` (a read-only copy of the reference, whose tests
run), ``copy/`` (the copy under test), ``site/`` (the copy's ``.dist-info`` and the
grader's pytest plugin) and ``run/`` (the working folder, writable). pytest runs in the
module's prepared environment (environment.py) with ``copy/src`` and ``site`` first on
``PYTHONPATH``, and reports each test through the grader's plugin (probe.py) on a pipe.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .environment import Prepared, distribution_of
from .modules import CourseModule
from .sandbox import changed_files, copy_folder, copy_reference, fingerprint, set_read_only

# pytest options of every graded run: keep running past a test file that fails to import,
# no cache, short tracebacks; kernel tests are left out (a student's copy has no kernels).
PYTEST_ARGS = (
    "-p", "gradstack_course_probe", "-p", "no:cacheprovider", "--continue-on-collection-errors",
    "--tb=short", "-q", "--ignore-glob=*/test_kernels*.py",
)  # fmt: skip
# Variables removed from the test process's environment, by exact name or prefix.
DROPPED = ("VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "UV_OVERRIDE")
DROPPED_PREFIXES = ("GRADSTACK_", "TOX_", "PYTHON")
LOG_TAIL_LINES = 30
# The grader's pytest plugin (not imported here: it needs pytest) and its two variables.
PROBE = Path(__file__).with_name("probe.py")
PROBE_FD, PROBE_ROOT = "GRADSTACK_COURSE_PROBE_FD", "GRADSTACK_COURSE_PROBE_ROOT"


@dataclass
class SuiteRun:
    """What one pytest run reported, and what the grader saw around it."""

    suite: str
    reports: dict[str, list[dict]] = field(default_factory=dict)  # nodeid -> its reports
    collect_errors: dict[str, str] = field(default_factory=dict)  # file nodeid -> details
    tamper: list[str] = field(default_factory=list)
    finished: int | None = None  # pytest's exit status, None if it never finished
    returncode: int | None = None
    timed_out: bool = False
    log_tail: str = ""


def suite_path(module: CourseModule, suite: str) -> str:
    """The tests a suite runs: the module's own, or ``tests`` for ``integration``."""
    return "tests" if suite == "integration" else f"packages/{module.name}/tests"


def _environment(sandbox: Path, fd: int) -> dict[str, str]:
    """The test process's environment: clean of steering variables, with the paths."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in DROPPED and not key.startswith(DROPPED_PREFIXES)
    }
    env["PYTHONPATH"] = os.pathsep.join([str(sandbox / "copy" / "src"), str(sandbox / "site")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env[PROBE_FD] = str(fd)
    env[PROBE_ROOT] = str(sandbox / "ref")
    return env


def prepare_sandbox(prepared: Prepared, copy: Path, sandbox: Path) -> dict[str, str]:
    """Fill ``sandbox`` (ref, copy, site, run); the reference copy's fingerprint."""
    name, version = distribution_of(copy)
    copy_reference(prepared.reference, sandbox / "ref")
    copy_folder(copy, sandbox / "copy")
    info = sandbox / "site" / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    url = {"url": (sandbox / "copy").resolve().as_uri(), "dir_info": {"editable": True}}
    (info / "direct_url.json").write_text(json.dumps(url))
    (sandbox / "site" / "gradstack_course_probe.py").write_bytes(PROBE.read_bytes())
    (sandbox / "run").mkdir()
    set_read_only(sandbox / "ref")
    set_read_only(sandbox / "site")
    return fingerprint(sandbox / "ref")


def _read(pipe: int, lines: list[str]) -> None:
    """Collect the probe's lines until the pipe closes (in a thread)."""
    with os.fdopen(pipe, "r", encoding="utf-8", errors="replace") as stream:
        lines.extend(stream)


def _merge(run: SuiteRun, record: dict) -> None:
    """Fold one probe record into the run."""
    if "tamper" in record:
        run.tamper.append(str(record["tamper"]))
    elif "finished" in record:
        run.finished = int(record["finished"])
    elif "collect_error" in record:
        run.collect_errors[str(record["collect_error"])] = str(record.get("details", ""))
    elif "nodeid" in record:
        run.reports.setdefault(str(record["nodeid"]), []).append(record)


def run_suite(
    python: Path, module: CourseModule, suite: str, sandbox: Path, timeout: float | None
) -> SuiteRun:
    """Run one suite in a filled sandbox; what the probe reported."""
    run = SuiteRun(suite)
    read_end, write_end = os.pipe()
    lines: list[str] = []
    reader = threading.Thread(target=_read, args=(read_end, lines), daemon=True)
    reader.start()
    ref = sandbox / "ref"
    command = [str(python), "-m", "pytest", f"--rootdir={ref}", "-c", str(ref / "pyproject.toml"),
               *PYTEST_ARGS, str(ref / suite_path(module, suite))]  # fmt: skip
    log = sandbox / f"{suite}.log"
    with log.open("w", encoding="utf-8") as output:
        try:
            process = subprocess.Popen(
                command, cwd=sandbox / "run", env=_environment(sandbox, write_end),
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                pass_fds=(write_end,), start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(write_end)
        try:
            run.returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            run.timed_out = True
        finally:  # stop anything the tests left running in their process group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    reader.join(timeout=10)
    for line in lines:
        with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
            _merge(run, json.loads(line))
    text = log.read_text(encoding="utf-8", errors="replace")
    run.log_tail = "\n".join(text.splitlines()[-LOG_TAIL_LINES:])
    return run


def reference_changes(before: dict[str, str], sandbox: Path) -> list[str]:
    """Files of the sandbox's reference copy a run changed, added or removed."""
    return changed_files(before, fingerprint(sandbox / "ref"))


def final_outcome(reports: list[dict]) -> str:
    """A test's outcome from its reports: failed at any stage, skipped, or passed in call."""
    outcomes = [(r.get("when"), r.get("outcome")) for r in reports]
    if any(outcome == "failed" for _, outcome in outcomes):
        return "failed"
    if any(outcome == "skipped" for _, outcome in outcomes):
        return "skipped"
    return "passed" if ("call", "passed") in outcomes else "failed"
