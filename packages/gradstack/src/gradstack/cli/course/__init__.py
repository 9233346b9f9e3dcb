"""``gradstack course``: release modules as student assignments, test and grade copies.

The ``gradstack`` command wires it in with ``add_course_parser(subparsers)`` and
dispatches to ``run_course(args)``; ``python -m gradstack.cli.course`` runs it alone.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, NoReturn

from ..errors import EXIT_USAGE
from .commands import DESCRIPTION, EPILOG, add_course_arguments, add_course_parser, run_course

__all__ = ["add_course_parser", "main", "run_course"]


class _Parser(argparse.ArgumentParser):
    """Errors as one line, ``<prog>: error: <message>``, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    """``gradstack course ARGS`` without the rest of the command; returns the exit code."""
    parser: Any = _Parser(
        prog="gradstack course",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_course_arguments(parser)
    return run_course(parser.parse_args(argv))
