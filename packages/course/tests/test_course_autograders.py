"""``gradstack course autograder``: the Gradescope bundle and the GitHub Classroom starter.

The Gradescope bundle is unpacked into a temporary "/autograder" tree (every path comes
from ``AUTOGRADER_ROOT``); ``setup.sh`` prepares the module and ``run_autograder`` grades
four uploads, each ``results.json`` checked against Gradescope's format. The GitHub
starter's workflow must be valid YAML with the expected steps, and the grading command
it runs must work here.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

# The workflow check needs a YAML parser; `tox -e course` installs pyyaml, so it runs there.
yaml = pytest.importorskip("yaml", reason="pyyaml is installed by tox -e course")

ROOT = Path(__file__).resolve().parents[3]
MODULE = "10_tokenization"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def check_gradescope_format(data: dict) -> None:
    """The fields Gradescope reads, with their types."""
    assert isinstance(data["score"], (int, float))
    assert isinstance(data["execution_time"], (int, float))
    assert isinstance(data["output"], str) and data["output"]
    assert isinstance(data["tests"], list) and data["tests"]
    for test in data["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], (int, float))
        assert isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"]
        assert isinstance(test["output"], str)
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert data["score"] == sum(t["score"] for t in data["tests"])


@pytest.fixture(scope="module")
def autograder(cli: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle unpacked into a fresh "/autograder" and its setup.sh run."""
    root = tmp_path_factory.mktemp("autograder")
    bundle = root / "autograder.zip"
    made = cli.course("autograder", "gradescope", MODULE, "--out", str(bundle))
    assert made.returncode == 0, made.stderr
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder"} <= set(names)
        assert any(n.startswith("gradstack/packages/course/") for n in names)
        archive.extractall(root / "source")  # what Gradescope does with the zip
        for info in archive.infolist():  # zipfile does not restore the permission bits
            mode = info.external_attr >> 16 & 0o777
            if mode:
                (root / "source" / info.filename).chmod(mode)
    assert os.access(root / "source" / "run_autograder", os.X_OK)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=environment(root),
                           capture_output=True, text=True, timeout=1800)  # fmt: skip
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "(100.0%)" in setup.stdout  # the reference grades 100% in the prepared tree
    return root


def environment(root: Path) -> dict[str, str]:
    """The scripts' environment: the tree's root and this interpreter."""
    return {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}


def run_autograder(root: Path, fill: Any) -> dict:
    """Put an upload in ``submission/``, run ``run_autograder``, read ``results.json``."""
    submission = root / "submission"
    if submission.exists():
        shutil.rmtree(submission)
    submission.mkdir()
    fill(submission)
    (root / "results" / "results.json").unlink(missing_ok=True)
    done = subprocess.run([str(root / "run_autograder")], env=environment(root), cwd=root,
                          capture_output=True, text=True, timeout=1800)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((root / "results" / "results.json").read_text())


def zipped_reference(submission: Path) -> None:
    """The reference module's folder contents, zipped (an upload of a zip)."""
    with zipfile.ZipFile(submission / "mine.zip", "w") as archive:
        folder = ROOT / "packages" / MODULE
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder))


def release(cli: Any, broken: bool) -> Any:
    """An upload of the untouched release's folder (with a syntax error if ``broken``)."""

    def fill(submission: Path) -> None:
        out = submission / MODULE
        assert cli.course("release", MODULE, "--out", str(out)).returncode == 0
        if broken:
            char = out / "src" / "gradstack" / "tokenization" / "char.py"
            char.write_text(char.read_text() + "this line is not Python (\n")

    return fill


@pytest.mark.slow
def test_gradescope_bundle_grades_each_kind_of_upload(cli: Any, autograder: Path):
    reference = run_autograder(autograder, zipped_reference)
    check_gradescope_format(reference)
    maximum = sum(t["max_score"] for t in reference["tests"])
    assert reference["score"] == maximum > 50
    untouched = run_autograder(autograder, release(cli, broken=False))
    check_gradescope_format(untouched)
    assert 0 < untouched["score"] < maximum
    assert sum(t["max_score"] for t in untouched["tests"]) == maximum
    broken = run_autograder(autograder, release(cli, broken=True))
    check_gradescope_format(broken)
    assert broken["score"] < untouched["score"]
    assert any("SyntaxError" in t["output"] for t in broken["tests"])
    empty = run_autograder(autograder, lambda submission: None)
    check_gradescope_format(empty)
    assert empty["score"] == 0
    assert f"no copy of {MODULE} in the submission" in empty["output"]


def test_the_bundle_holds_the_scripts_and_the_reference(cli: Any, tmp_path: Path):
    bundle = tmp_path / "autograder.zip"
    assert cli.course("autograder", "gradescope", MODULE, "--out", str(bundle)).returncode == 0
    with zipfile.ZipFile(bundle) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        for script in ("setup.sh", "run_autograder"):
            assert infos[script].external_attr >> 16 & stat.S_IXUSR
            assert archive.read(script).startswith(b"#!/usr/bin/env bash\n")
        assert "gradstack/conftest.py" in infos and "gradstack/tests/integration/" in "".join(infos)
        assert not any("__pycache__" in name for name in infos)


@pytest.fixture(scope="module")
def starter(cli: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The GitHub Classroom starter repository of the module."""
    out = tmp_path_factory.mktemp("github") / "starter"
    made = cli.course("autograder", "github", MODULE, "--out", str(out))
    assert made.returncode == 0, made.stderr
    return out


def test_github_starter_is_the_release_with_a_classroom_workflow(starter: Path):
    assert (starter / "pyproject.toml").read_bytes() == (
        ROOT / "packages" / MODULE / "pyproject.toml"
    ).read_bytes()
    readme = (starter / "README.md").read_text()
    assert "\n## Assignment\n" in readme and "\n## Grading on GitHub Classroom\n" in readme
    workflow = yaml.safe_load((starter / ".github" / "workflows" / "classroom.yml").read_text())
    assert set(workflow["on"]) == {"push", "repository_dispatch", "workflow_dispatch"}
    assert workflow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    uses = [s.get("uses") for s in steps]
    assert uses == ["actions/checkout@v4", "actions/checkout@v4", "actions/setup-python@v5",
                    None, None, "classroom-resources/autograding-grading-reporter@v1"]  # fmt: skip
    assert [s["with"]["path"] for s in steps[:2]] == ["submission", "reference"]
    assert steps[1]["with"]["repository"] == "${{ vars.GRADSTACK_REFERENCE }}"
    grade = steps[4]
    assert grade["id"] == "gradstack"
    assert grade["run"].startswith(f"gradstack-course test {MODULE} --path submission")
    assert "--github-output" in grade["run"]
    reporter = steps[5]
    assert reporter["with"]["runners"] == "gradstack"
    assert reporter["env"] == {"GRADSTACK_RESULTS": "${{ steps.gradstack.outputs.result }}"}


@pytest.mark.slow
def test_the_workflow_grading_command_works_here(starter: Path, workdir: Path, tmp_path: Path):
    workflow = yaml.safe_load((starter / ".github" / "workflows" / "classroom.yml").read_text())
    command = workflow["jobs"]["run-autograding-tests"]["steps"][4]["run"]
    workspace = tmp_path / "workspace"  # the runner's workspace after the two checkouts
    shutil.copytree(starter, workspace / "submission", ignore=IGNORE)
    (workspace / "reference").symlink_to(ROOT)
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    (runner_temp / "grading").symlink_to(workdir)  # the session's prepared environments
    output = tmp_path / "github_output"
    env = {**os.environ, "RUNNER_TEMP": str(runner_temp), "GITHUB_OUTPUT": str(output)}
    local = command.replace("gradstack-course", f"{sys.executable} -m gradstack.course", 1)
    done = subprocess.run(["bash", "-c", local], cwd=workspace, env=env, capture_output=True,
                          text=True, timeout=1800)  # fmt: skip
    assert done.returncode == 0, done.stderr
    key, _, value = output.read_text().strip().partition("=")
    assert key == "result"
    result = json.loads(base64.b64decode(value))
    assert result["version"] == 1 and result["status"] == "fail"
    earned = sum(t["score"] for t in result["tests"])
    assert 0 < earned < result["max_score"]
    assert {t["status"] for t in result["tests"]} == {"pass", "fail"}
    results = json.loads((workspace / "results.json").read_text())
    assert results["score"] == earned and results["max_score"] == result["max_score"]
