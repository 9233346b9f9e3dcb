"""The grader's pytest plugin: reports each test's outcome to the grader, watches pytest.

Loaded with ``-p gradstack_course_probe`` before any test or student code runs (the
grader copies this file into the grading folder; it imports nothing of gradstack). It
sends one JSON line per event down a pipe the grader opened (file descriptor in
``GRADSTACK_COURSE_PROBE_FD``, removed from the environment at once): each test report,
each collection error, signs that the test machinery was changed at run time, and a last
``finished`` line. The grader reads no file the test process writes, so a forged JUnit
report counts for nothing, and a process that ends before ``finished`` (``os._exit``, a
crash) has its unreported tests counted as failed.

What it watches, from its loading until the end: pytest's functions that run a test and
make its report, the ``builtins`` namespace, the modules in ``sys.modules`` at its loading,
plugins registered from outside the reference copy, and each test function's code, which
must be defined in its own test file. Code under test runs in this process: a determined
submission can defeat any in-process check (docs/course.md, "Threat model").
"""

from __future__ import annotations

import ast
import builtins
import inspect
import json
import os
import sys
from pathlib import Path

import _pytest.main
import _pytest.python
import _pytest.reports
import _pytest.runner
import pytest

FD_VARIABLE = "GRADSTACK_COURSE_PROBE_FD"
ROOT_VARIABLE = "GRADSTACK_COURSE_PROBE_ROOT"
DETAILS_LIMIT = 4000

_fd = int(os.environ.pop(FD_VARIABLE, "-1"))
_root = Path(os.environ.pop(ROOT_VARIABLE, os.getcwd())).resolve()
_write = os.write
_dumps = json.dumps

WATCHED = {
    "Function.runtest": (_pytest.python.Function, "runtest"),
    "pytest_pyfunc_call": (_pytest.python, "pytest_pyfunc_call"),
    "call_and_report": (_pytest.runner, "call_and_report"),
    "runtestprotocol": (_pytest.runner, "runtestprotocol"),
    "CallInfo.from_call": (_pytest.runner.CallInfo, "from_call"),
    "TestReport.from_item_and_call": (_pytest.reports.TestReport, "from_item_and_call"),
    "pytest_runtestloop": (_pytest.main, "pytest_runtestloop"),
    "os._exit": (os, "_exit"),
}
WATCHED = {name: spot for name, spot in WATCHED.items() if hasattr(*spot)}  # pytest's version
_static = inspect.getattr_static  # a classmethod's own object, not a new bound method
_watched = {name: _static(owner, attr) for name, (owner, attr) in WATCHED.items()}
_builtins = dict(vars(builtins))
_modules = dict(sys.modules)
_plugins: set[int] = set()
_reported: set[str] = set()
_defs: dict[str, set[tuple[str, int]]] = {}


def _send(record: dict) -> None:
    """One JSON line to the grader (nothing when not started by the grader)."""
    if _fd >= 0:
        _write(_fd, (_dumps(record) + "\n").encode("utf-8"))


def _tamper(reason: str) -> None:
    """Report a change to the test machinery once."""
    if reason not in _reported:
        _reported.add(reason)
        _send({"tamper": reason})


def _check_machinery() -> None:
    """Compare pytest's runner functions, builtins and early modules with their snapshot."""
    for name, (owner, attr) in WATCHED.items():
        if _static(owner, attr, None) is not _watched[name]:
            _tamper(f"pytest's test runner was changed: {name} replaced")
    current = vars(builtins)
    changed = sorted(
        k for k in set(current) | set(_builtins) if current.get(k, None) is not _builtins.get(k)
    )
    if changed:
        _tamper(f"builtins were changed: {', '.join(changed[:5])}")
    replaced = sorted(k for k, m in _modules.items() if sys.modules.get(k, m) is not m)
    if replaced:
        _tamper(f"sys.modules entries were replaced: {', '.join(replaced[:5])}")


def _definitions(path: Path) -> set[tuple[str, int]]:
    """(name, first line) of every function defined in a test file, decorators included."""
    key = str(path)
    if key not in _defs:
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                found.add((node.name, first))
        _defs[key] = found
    return _defs[key]


def _check_test_code(item: pytest.Item) -> None:
    """A test function's code must be the one its test file defines."""
    function = getattr(item, "function", None)
    module = getattr(getattr(item, "module", None), "__name__", None)
    if function is None or getattr(function, "__module__", None) != module:
        return
    inner = getattr(getattr(function, "hypothesis", None), "inner_test", None)
    code = getattr(inner or inspect.unwrap(function), "__code__", None)
    if code is None:
        return
    same_file = Path(code.co_filename).resolve() == Path(item.path).resolve()
    if not same_file or (code.co_name, code.co_firstlineno) not in _definitions(Path(item.path)):
        _tamper(f"the code of test {item.nodeid} was replaced (now from {code.co_filename})")


def _outside_reference(plugin: object) -> bool:
    """A plugin that is not pytest's, hypothesis's, or a conftest.py of the reference copy."""
    file = getattr(plugin, "__file__", None)
    if file is not None:
        path = Path(file).resolve()
        return not (path.name == "conftest.py" and path.is_relative_to(_root))
    origin = type(plugin).__module__.split(".")[0]
    return origin not in ("_pytest", "pytest", "pluggy", "hypothesis", __name__)


def pytest_collection(session: pytest.Session) -> None:
    _plugins.update(id(p) for p in session.config.pluginmanager.get_plugins())


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        text = str(report.longrepr)
        _send({"collect_error": report.nodeid, "details": text[-DETAILS_LIMIT:]})


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    _check_test_code(item)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _check_machinery()
    details = report.longreprtext[-DETAILS_LIMIT:] if report.failed else ""
    message = ""
    if report.skipped and isinstance(report.longrepr, tuple):
        message = str(report.longrepr[2])
    _send(
        {
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "message": message,
            "details": details,
            "points": dict(report.user_properties).get("points", 1),
        }
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _check_machinery()
    for plugin in session.config.pluginmanager.get_plugins():
        if id(plugin) not in _plugins and _outside_reference(plugin):
            name = getattr(plugin, "__file__", None) or type(plugin).__qualname__
            _tamper(f"a pytest plugin was registered at run time: {name}")
    _send({"finished": int(exitstatus)})
