"""A submission cannot game the grader: attacks on ``gradstack course test``.

Each attack is a payload appended to an untouched release of 10_tokenization (a small
module that needs no other), run at import, the way a student's code runs. The honest
score is the untouched release's. For each attack: the score is not above the honest
one, no file of the reference checkout changes, and the submission is flagged "needs
review" in the table, the JSON and the JUnit output.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
MODULE = "10_tokenization"

# Test bodies do nothing: a plugin registered at import answers pytest_pyfunc_call itself.
BODY_BYPASS = """
import gc as _gc
import sys as _sys

import pytest as _pytest


@_pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    return True


for _config in [o for o in _gc.get_objects() if type(o).__name__ == "Config"]:
    _config.pluginmanager.register(_sys.modules[__name__], "helper")
"""

# The same through pytest's own runner, without a plugin.
RUNTEST_BYPASS = """
import _pytest.python as _python

_python.Function.runtest = lambda self: None
"""

# Append a hook that turns every report into a pass to the first conftest.py found above
# the test paths, after making it writable; and leave a file beside it.
CONFTEST_APPEND = '''
import os as _os
import pathlib as _pathlib
import sys as _sys

_HOOK = """

import pytest as _p


@_p.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""
for _arg in [*_sys.argv, _os.getcwd()]:
    _start = _pathlib.Path(_arg.split("=")[-1])
    for _folder in [_start, *_start.parents]:
        _conftest = _folder / "conftest.py"
        if _conftest.is_file():
            try:
                _os.chmod(_folder, 0o755)
                _os.chmod(_conftest, 0o644)
                with open(_conftest, "a") as _f:
                    _f.write(_HOOK)
                (_folder / "pwned.txt").write_text("was here")
            except OSError:
                pass
            break
'''

# A JUnit report with every test passed, written over whatever pytest writes, at exit.
FORGED_JUNIT = """
import atexit as _atexit
import os as _os
import sys as _sys

_XML = (
    '<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="1">'
    '<testcase classname="t" name="t"><properties><property name="points" value="1000"/>'
    '<property name="nodeid" value="t.py::t"/></properties></testcase></testsuite></testsuites>'
)


def _forge():
    targets = [a.split("=", 1)[1] for a in _sys.argv if a.startswith("--junitxml=")]
    for target in targets + [_os.path.join(_os.getcwd(), "results.xml")]:
        try:
            with open(target, "w") as f:
                f.write(_XML)
        except OSError:
            pass


_atexit.register(_forge)
"""

# The interpreter ends at import, status 0, before any test runs.
EXIT_AT_IMPORT = """
import os as _os

_os._exit(0)
"""

ATTACKS = {
    "body-bypass": BODY_BYPASS,
    "runtest-bypass": RUNTEST_BYPASS,
    "conftest-append": CONFTEST_APPEND,
    "forged-junit": FORGED_JUNIT,
    "exit-at-import": EXIT_AT_IMPORT,
}


def checkout_fingerprint() -> dict[str, str]:
    """Hashes of the checkout's files that a grading could touch."""
    files = [ROOT / "conftest.py", ROOT / "pyproject.toml", ROOT / "tox.ini"]
    for folder in (ROOT / "tests", ROOT / "packages" / MODULE):
        files += [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}


def grade(cli: Any, copy: Path, out: Path, workdir: Path) -> tuple[dict, ET.Element, str]:
    """``course test`` with --json and --junit: the JSON, the JUnit root and stdout."""
    out.mkdir(parents=True)
    result = cli.course("test", MODULE, "--path", str(copy), "--json", str(out / "r.json"),
                        "--junit", str(out / "r.xml"), "--workdir", str(workdir))  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "r.json").read_text())
    return data, ET.parse(out / "r.xml").getroot(), result.stdout


@pytest.fixture(scope="module")
def honest(cli: Any, workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The results of the untouched release: what an attack must not beat."""
    folder = tmp_path_factory.mktemp("honest")
    release = folder / MODULE
    assert cli.course("release", MODULE, "--out", str(release)).returncode == 0
    data, junit, stdout = grade(cli, release, folder / "out", workdir)
    assert 0 < data["score"] < data["max_score"]
    assert data["extra_data"]["needs_review"] is False
    assert "NEEDS REVIEW" not in stdout
    assert {p.get("value") for p in junit.iter("property") if p.get("name") == "needs_review"} == {
        "false"
    }
    return data


@pytest.mark.slow
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_attack_does_not_raise_the_score_touch_the_checkout_or_go_unflagged(
    cli: Any, workdir: Path, honest: dict, tmp_path: Path, attack: str
):
    before = checkout_fingerprint()
    copy = tmp_path / MODULE
    assert cli.course("release", MODULE, "--out", str(copy)).returncode == 0
    init = copy / "src" / "gradstack" / "tokenization" / "__init__.py"
    init.write_text(init.read_text() + textwrap.dedent(ATTACKS[attack]))
    data, junit, stdout = grade(cli, copy, tmp_path / "out", workdir)
    assert data["score"] <= honest["score"], attack
    assert data["max_score"] == honest["max_score"]  # the maximum is the reference's
    assert checkout_fingerprint() == before
    assert data["extra_data"]["needs_review"] is True
    assert data["extra_data"]["review"], attack
    assert "NEEDS REVIEW: " in stdout
    flags = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert flags["needs_review"] == "true" and flags["review"]


@pytest.mark.slow
def test_the_reference_module_scores_its_maximum_unflagged(
    cli: Any, workdir: Path, honest: dict, tmp_path: Path
):
    data, _, _ = grade(cli, ROOT / "packages" / MODULE, tmp_path / "out", workdir)
    assert data["score"] == data["max_score"] == honest["max_score"]
    assert data["extra_data"]["needs_review"] is False
