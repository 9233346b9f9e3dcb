"""Running the reference checkout's tox environments with one module swapped for a copy.

Each run is ``tox -c <repo>/tox.ini --workdir <work> -e <env> -- <pytest args>`` with
``GRADSTACK_<NAME>`` set to the copy's absolute path (README, "Testing a student copy
of a module"). The tests that run are always the reference checkout's, never the
copy's. Variables that would steer tox or pytest away from the reference (other
``GRADSTACK_*`` swaps, ``TOX_*`` settings, an active virtualenv, ``PYTEST_ADDOPTS``)
are removed from the environment tox is started with.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# pytest options of every graded run: XML results, keep running past a test file that
# fails to import, write nothing into the reference checkout's cache, short tracebacks.
PYTEST_ARGS = ("-p", "no:cacheprovider", "--continue-on-collection-errors", "--tb=short", "-q")
# Variables removed from tox's environment, by exact name or prefix.
DROPPED = ("VIRTUAL_ENV", "PYTEST_ADDOPTS", "UV_OVERRIDE")
DROPPED_PREFIXES = ("GRADSTACK_", "TOX_")
LOG_TAIL_LINES = 30


class ToxError(RuntimeError):
    """tox could not run the tests (not installed, an environment failed to build, timeout)."""


@dataclass(frozen=True)
class ToxRun:
    """The outcome of one tox invocation."""

    env: str
    returncode: int
    log: Path

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of tox's output."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def tox_command() -> list[str]:
    """How to start tox: this interpreter's module if installed, else ``tox`` on PATH."""
    if importlib.util.find_spec("tox") is not None:
        return [sys.executable, "-m", "tox"]
    found = shutil.which("tox")
    if found is None:
        raise ToxError(
            "tox is not installed: `pip install 'tox>=4.28' tox-uv` (README, 'Running the tests')"
        )
    return [found]


def clean_environment(swaps: dict[str, Path]) -> dict[str, str]:
    """This process's environment without variables that steer tox, plus ``swaps``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in DROPPED and not key.startswith(DROPPED_PREFIXES)
    }
    env.update({key: str(path) for key, path in swaps.items()})
    return env


def run_tox(
    repo: Path,
    workdir: Path,
    env_name: str,
    pytest_args: list[str],
    swaps: dict[str, Path],
    timeout: float | None,
) -> ToxRun:
    """Run one tox environment of ``repo``; its output goes to ``workdir/<env>.log``."""
    log = workdir / f"{env_name}.log"
    command = [
        *tox_command(),
        "-c",
        str(repo / "tox.ini"),
        "--workdir",
        str(workdir / "tox"),
        "-e",
        env_name,
        "--",
        *pytest_args,
    ]
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            command,
            cwd=repo,
            env=clean_environment(swaps),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a timeout stops all of it
        )
        try:
            returncode = process.wait(timeout=timeout)
        except BaseException:  # a timeout or Ctrl-C: stop tox and everything it started
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    return ToxRun(env_name, returncode, log)


def run_tests(
    repo: Path,
    workdir: Path,
    env_name: str,
    swaps: dict[str, Path],
    junit: Path,
    timeout: float | None,
    extra: tuple[str, ...] = (),
) -> ToxRun:
    """Run the env's tests writing JUnit XML to ``junit``; ToxError if no XML came out."""
    junit.unlink(missing_ok=True)  # a reused work dir may hold an earlier run's
    args = [f"--junitxml={junit}", *PYTEST_ARGS, *extra]
    try:
        run = run_tox(repo, workdir, env_name, args, swaps, timeout)
    except subprocess.TimeoutExpired:
        raise ToxError(f"tox -e {env_name} did not finish within {timeout:g} s") from None
    if not junit.is_file():
        raise ToxError(
            f"tox -e {env_name} ended (exit code {run.returncode}) without running the tests; "
            f"its last lines:\n{run.tail()}"
        )
    return run
