"""The ``gradstack`` command: argument parsing and dispatch to the subcommands.

Exit codes: 0 success; 1 ``check`` found a failing gradient; 2 bad input (flags, data,
checkpoint, a folder another run holds) or a failure of the machine (out of memory, disk
full, read-only or failing), reported as one line ``gradstack <command>: error:
<message>`` on stderr; 3 training diverged (non-finite loss or gradient; nothing saved
after the last good checkpoint); 130 training stopped by Ctrl-C after saving a checkpoint.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any, NoReturn

from .__about__ import __version__
from .errors import EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_USAGE, TrainingDiverged, UsageError

Runner = Callable[[argparse.Namespace], int]
# Entry points that add a command: ``course`` (gradstack-course) registers here.
PLUGIN_GROUP = "gradstack.commands"

DESCRIPTION = """\
gradstack: a deep-learning framework written from scratch on NumPy, ending in a GPT
that trains on a laptop CPU.

  gradstack train                     train a character-level GPT on Python's docs
  gradstack generate --checkpoint DIR stream text from a trained model
  gradstack check                     gradient checks of every installed module
  gradstack bench                     time one GPT training step
  gradstack course                    release modules as assignments, grade copies
                                      (when gradstack-course is installed)
"""

EXIT_CODES = """\
exit codes: 0 success, 1 a gradient check failed, 2 bad input or a failure of the
machine (out of memory, disk full or failing; one line on stderr), 3 training diverged
(a NaN or inf loss or gradient; the last good checkpoint is kept), 130 training
interrupted by Ctrl-C (a checkpoint was saved)."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``<prog>: error: <message>``.

    ``commands`` maps subcommand names to their parsers (filled by ``build_parser``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: dict[str, argparse.ArgumentParser] = {}

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _run_train(args: argparse.Namespace) -> int:
    from .train import run_train

    return run_train(args)


def _run_generate(args: argparse.Namespace) -> int:
    from .generate import run_generate

    return run_generate(args)


def _run_check(args: argparse.Namespace) -> int:
    from .check import run_check

    return run_check(args)


def _run_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    return run_bench(args)


def build_parser() -> Parser:
    """The full command line: four subcommands with their flags."""
    from .arguments import add_bench_arguments, add_check_arguments, add_generate_arguments
    from .train_args import DESCRIPTION as TRAIN_DESCRIPTION
    from .train_args import EPILOG as TRAIN_EPILOG
    from .train_args import add_train_arguments

    formatter = argparse.RawDescriptionHelpFormatter
    parser = Parser(
        prog="gradstack", description=DESCRIPTION, epilog=EXIT_CODES, formatter_class=formatter
    )
    parser.add_argument("--version", action="version", version=f"gradstack {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    table: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Runner, str, str]] = [
        (
            "train",
            "train a GPT on text",
            add_train_arguments,
            _run_train,
            TRAIN_DESCRIPTION,
            TRAIN_EPILOG,
        ),
        (
            "generate",
            "continue a prompt with a trained model, streaming to stdout",
            add_generate_arguments,
            _run_generate,
            "",
            EXIT_CODES,
        ),
        (
            "check",
            "finite-difference gradient checks of every installed module",
            add_check_arguments,
            _run_check,
            "",
            EXIT_CODES,
        ),
        ("bench", "time one GPT training step", add_bench_arguments, _run_bench, "", ""),
    ]
    for name, summary, add_arguments, runner, description, epilog in table:
        sub = commands.add_parser(
            name,
            help=summary,
            description=description or summary,
            epilog=epilog,
            formatter_class=formatter,
        )
        add_arguments(sub)
        sub.set_defaults(runner=runner)
        parser.commands[name] = sub
    for name, add_parser in plugin_commands(set(parser.commands)).items():
        parser.commands[name] = add_parser(commands)
    return parser


def plugin_commands(taken: set[str]) -> dict[str, Callable[[Any], argparse.ArgumentParser]]:
    """Commands other distributions add, by name (``course`` from gradstack-course).

    Each entry point of the group ``gradstack.commands`` names a function that adds its
    command to the subparsers and sets its ``runner``; one that cannot be loaded, or whose
    name is taken, is left out, so a broken plugin never breaks ``gradstack``.
    """
    found = {}
    for entry in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        if entry.name in taken or entry.name in found:
            continue
        try:
            found[entry.name] = entry.load()
        except Exception as error:  # a plugin's own bug: say so, keep the other commands
            print(
                f"gradstack: warning: cannot load command {entry.name!r}: {error}", file=sys.stderr
            )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gradstack`` console script; returns the exit code."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:  # reported by the subcommand's parser, so the message names the command
        owner = parser.commands.get(args.command, parser)
        owner.error(f"unrecognized arguments: {' '.join(extras)}")
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    prog = f"gradstack {args.command}"
    try:
        return args.runner(args)
    except TrainingDiverged as error:
        return _fail(prog, str(error), EXIT_DIVERGED)
    except FloatingPointError as error:
        return _fail(prog, f"numerical error: {error}", EXIT_DIVERGED)
    except UsageError as error:
        return _fail(prog, str(error), EXIT_USAGE)
    except MemoryError as error:
        detail = f" ({error})" if str(error) else ""
        hint = "try a smaller --batch-size, --embed-dim, --context or --data"
        return _fail(prog, f"out of memory{detail}; {hint}", EXIT_USAGE)
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`gradstack generate ... | head`): stop quietly, and point
        # stdout at /dev/null so the interpreter's final flush does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # disk full, read-only, I/O error: nothing half-written
        where = f" ({error.filename})" if error.filename else ""
        return _fail(prog, f"{error.strerror or error}{where}", EXIT_USAGE)


def _fail(prog: str, message: str, code: int) -> int:
    """Print the one-line error (flattened to one line) and return ``code``."""
    line = " ".join(message.split())
    print(f"{prog}: error: {line}", file=sys.stderr)
    return code
