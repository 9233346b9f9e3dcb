"""gradstack-course: release modules as student assignments, test and grade students' copies.

Standard library only (no numpy, no model): it runs on an instructor's or a grader's
machine next to a gradstack checkout. Two ways in, the same commands:

- ``gradstack-course ARGS`` (this distribution's console script, or
  ``python -m gradstack.course ARGS``);
- ``gradstack course ARGS`` when the ``gradstack`` command is installed too: it adds every
  command of the entry-point group ``gradstack.commands``, where this distribution
  registers ``add_course_parser``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, NoReturn

from .__about__ import __version__
from .commands import DESCRIPTION, EPILOG, add_course_arguments, add_course_parser, run_course
from .errors import EXIT_USAGE

__all__ = ["__version__", "add_course_parser", "main", "run_course"]


class _Parser(argparse.ArgumentParser):
    """Errors as one line, ``<prog>: error: <message>``, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    """The ``gradstack-course`` console script; returns the exit code."""
    parser: Any = _Parser(
        prog="gradstack-course",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gradstack-course {__version__}")
    add_course_arguments(parser)
    return run_course(parser.parse_args(argv))
