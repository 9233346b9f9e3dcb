"""Errors the course command reports as one line on stderr, and its exit codes."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # the tests could not run (an environment failed to build, a timeout)
EXIT_USAGE = 2  # bad input, reported as one line


class UsageError(Exception):
    """Bad input: printed as ``gradstack course <sub>: error: <message>``, exit code 2."""


class GradingError(RuntimeError):
    """The tests could not run (an environment failed to build, a copy without a version)."""
