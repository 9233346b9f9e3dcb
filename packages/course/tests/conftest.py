"""Fixtures for running the real ``gradstack-course`` command in a subprocess.

Tests are imported with ``--import-mode=importlib``, so they cannot import this file;
the helpers reach them as the ``cli`` fixture.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]  # the checkout


def course(*args: str, cwd: Path = ROOT, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run ``python -m gradstack.course ARGS`` (what ``gradstack-course`` and
    ``gradstack course`` run), by default from the checkout's root, and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "gradstack.course", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], command: str, *words: str
) -> None:
    """Exit code 2, one ``gradstack <command>: error: ...`` line naming ``words``, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"gradstack {command}: error: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in result.stderr


class CLI:
    """The helpers above, handed to tests by the ``cli`` fixture."""

    root = ROOT
    course = staticmethod(course)
    assert_error = staticmethod(assert_one_line_error)


@pytest.fixture(scope="session")
def cli() -> type[CLI]:
    """Run the command and read what it wrote."""
    return CLI


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One grading work folder for the session: each module's environment is built once."""
    return tmp_path_factory.mktemp("grading-work")
