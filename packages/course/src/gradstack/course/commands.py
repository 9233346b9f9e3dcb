"""The ``course`` command line: release, test and status, with their flags and runners.

Exit codes: 0 the command did its work (whatever a score is); 1 the tests could not run
(the grading environment could not be built, a copy without a readable version); 2 bad
input, reported as one line ``gradstack course <sub>: error: <message>``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import xml.etree.ElementTree as ET  # noqa: N817 (the usual name)
from pathlib import Path
from typing import Any

from .errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, GradingError, UsageError
from .files import write_atomic
from .grading import (
    find_copies,
    format_status,
    format_table,
    grade,
    module_status,
    progress,
    summary,
    work_folder,
)
from .modules import checked_repo, course_modules, resolve_module, student_copy
from .release import plan_release, write_release
from .results import FAILED, TestResult, gradescope_json, junit_xml

DESCRIPTION = """\
Course assignments: hand a module out to students and grade their copies.

  gradstack course release 05_autograd --out DIR   student copy of one module
  gradstack course release --all --out DIR         every module, into DIR/NN_name
  gradstack course test 05_autograd --path COPY    grade a copy against the reference
  gradstack course status DIR                      which copies in DIR pass their tests
"""

EPILOG = """\
exit codes: 0 done (whatever the score), 1 the tests could not run,
2 bad input (one line on stderr). See docs/course.md."""

REPO_HELP = (
    "the reference gradstack checkout (default: $GRADSTACK_COURSE_REPO, else the first "
    "folder at or above the current one that holds tox.ini and packages/01_tensor)"
)


def _add_release(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("module", nargs="?", help="module to release: 05_autograd (or 05, autograd)")
    sub.add_argument("--all", action="store_true", help="release every module into OUT/NN_name")
    sub.add_argument("--out", required=True, metavar="DIR", help="folder to write (new or empty)")
    sub.add_argument("--repo", metavar="PATH", help=REPO_HELP)


def _add_test(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("module", help="module the copy is of: 05_autograd (or 05, autograd)")
    sub.add_argument(
        "--path", required=True, metavar="DIR", help="the student's copy (holds pyproject.toml)"
    )
    sub.add_argument("--repo", metavar="PATH", help=REPO_HELP)
    sub.add_argument(
        "--json", metavar="FILE", help="write results in Gradescope's results.json shape"
    )
    sub.add_argument("--junit", metavar="FILE", help="write results as JUnit XML")
    _add_run_options(sub)


def _add_status(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("folder", metavar="DIR", help="folder of student copies (e.g. from --all)")
    sub.add_argument("--repo", metavar="PATH", help=REPO_HELP)
    _add_run_options(sub)


def _add_run_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--workdir",
        metavar="DIR",
        help="work folder to keep and reuse across runs: the prepared environments and the "
        "reference's results (default: $GRADSTACK_COURSE_WORKDIR, else a temporary one)",
    )
    sub.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="stop a suite's test run after this long (default: %(default)g)",
    )


def add_course_arguments(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` (the ``course`` command) its three subcommands."""
    formatter = argparse.RawDescriptionHelpFormatter
    subcommands = parser.add_subparsers(
        dest="course_command", metavar="SUBCOMMAND", parser_class=type(parser)
    )
    for name, summary_text, add in (
        ("release", "write the student copy of a module", _add_release),
        ("test", "grade a student's copy of a module against the reference tests", _add_test),
        ("status", "which module copies in a folder pass their tests", _add_status),
    ):
        sub = subcommands.add_parser(
            name, help=summary_text, description=summary_text, epilog=EPILOG,
            formatter_class=formatter,
        )  # fmt: skip
        add(sub)
    parser.set_defaults(course_help=parser.format_help)


def add_course_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``course`` command to the ``gradstack`` command's subparsers."""
    parser = subparsers.add_parser(
        "course",
        help="release modules as student assignments, grade students' copies",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_course_arguments(parser)
    parser.set_defaults(runner=run_course)
    return parser


def run_course(args: argparse.Namespace) -> int:
    """Run ``gradstack course <subcommand>``; returns the exit code."""
    command = getattr(args, "course_command", None)
    if command is None:
        print(args.course_help(), file=sys.stderr)
        return EXIT_USAGE
    try:
        return {"release": run_release, "test": run_test, "status": run_status}[command](args)
    except UsageError as error:
        print(f"gradstack course {command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except GradingError as error:
        print(f"gradstack course {command}: error: {error}", file=sys.stderr)
        return EXIT_FAILED


def run_release(args: argparse.Namespace) -> int:
    """Write one module's student copy to OUT, or every module's to OUT/NN_name."""
    repo = checked_repo(args.repo)
    if args.all == (args.module is not None):
        raise UsageError("give either a module (05_autograd) or --all")
    out = Path(args.out).expanduser().resolve()
    if args.all:
        plans = [(plan_release(m), out / m.name) for m in course_modules(repo)]
    else:
        plans = [(plan_release(resolve_module(repo, args.module)), out)]
    for plan, _ in plans:
        if not plan.stub_count:
            print(
                f"warning: {plan.module.name} has no solution regions; released unchanged",
                file=sys.stderr,
            )
    for _, target in plans:
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise UsageError(f"--out: {target} already exists and is not an empty folder")
    for plan, target in plans:
        write_release(plan, target)
        files = len(plan.assignments)
        print(
            f"{plan.module.name}: {plan.stub_count} part(s) to write in {files} file(s) -> {target}"
        )
    return EXIT_OK


def _write_outputs(
    args: argparse.Namespace,
    results: list[TestResult],
    text: str,
    seconds: float,
    review: list[str] = (),
) -> None:
    """``--json`` and ``--junit``, each written to a temporary file then renamed."""
    if args.json:
        data = json.dumps(gradescope_json(results, text, seconds, review), indent=1)
        write_atomic(Path(args.json), data.encode("utf-8"))
    if args.junit:
        root = junit_xml(results, review).getroot()
        write_atomic(Path(args.junit), ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _check_output_folder(option: str, value: str | None) -> None:
    """An output file's folder must exist, checked before a long run rather than after."""
    if value is not None and not Path(value).expanduser().resolve().parent.is_dir():
        raise UsageError(f"{option} {value}: its folder does not exist")


def _check_timeout(timeout: float) -> None:
    """``--timeout`` must be a positive number of seconds."""
    if not timeout > 0:
        raise UsageError(f"--timeout must be positive, got {timeout:g}")


def run_test(args: argparse.Namespace) -> int:
    """Grade a copy: the module's tests and the integration tests, table and score."""
    repo = checked_repo(args.repo)
    module = resolve_module(repo, args.module)
    student = student_copy(module, args.path)
    _check_output_folder("--json", args.json)
    _check_output_folder("--junit", args.junit)
    _check_timeout(args.timeout)
    started = time.monotonic()
    with work_folder(args.workdir) as workdir:
        try:
            grading = grade(repo, module, student, workdir, args.timeout)
        except GradingError as error:
            if args.json:  # an autograder still gets a result, with the reason
                failed = [TestResult("grader", "grader", FAILED, 1, str(error))]
                text = f"the tests could not run: {error}"
                _write_outputs(args, failed, text, time.monotonic() - started)
            raise
    text = summary(module, student, grading.results, grading.review)
    print(format_table(grading.results))
    print(text)
    _write_outputs(args, grading.results, text, time.monotonic() - started, grading.review)
    return EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    """For each copy in a folder: run its module's own tests, say whether all pass."""
    repo = checked_repo(args.repo)
    _check_timeout(args.timeout)
    copies = find_copies(repo, Path(args.folder).expanduser())
    rows = {}
    with work_folder(args.workdir) as workdir:
        for module, copy in copies:
            passed, total = module_status(repo, workdir, module, copy, args.timeout)
            rows[module.name] = (copy, passed, total)
    progress("")
    print(format_status(repo, rows))
    return EXIT_OK
