"""``gradstack course test`` and ``status``: real grading runs of this checkout's tests.

The slow tests build the grading environment in a temporary work folder (uv caches the
wheels, so it takes seconds) and check the grading claims of the course:

- the reference folder of a module scores 100%;
- the untouched release of a module scores 0 on its own tests that need the student's
  code, and the later modules' tests still run, failing with NotImplementedError, never
  with an ImportError;
- a copy of 05_autograd with one wrong gradient rule loses exactly the tests that check
  that rule, with a message that names the gradient error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
IMPORT_ERRORS = ("ImportError", "ModuleNotFoundError", "not run: its test file")


def copy_module(name: str, target: Path) -> Path:
    """A copy of the reference module folder ``packages/<name>``, caches left out."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info")
    shutil.copytree(ROOT / "packages" / name, target, ignore=ignore)
    return target


def grade(cli: Any, module: str, copy: Path, tmp_path: Path, workdir: Path) -> tuple[dict, str]:
    """Run ``course test`` with --json and --junit; the JSON results and stdout."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    results, junit = tmp_path / "results.json", tmp_path / "results.xml"
    result = cli.course("test", module, "--path", str(copy), "--json", str(results),
                    "--junit", str(junit), "--workdir", str(workdir))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert junit.read_text().startswith("<?xml")
    return json.loads(results.read_text()), result.stdout


def collected(path: str, workdir: Path, module: str) -> set[str]:
    """Node ids of the reference's graded tests under ``path`` (collected, not run), in the
    grading environment of ``module`` with the reference module on the path; kernel tests
    (``test_kernels*.py``) are left out, as the grader leaves them out."""
    python = workdir / "envs" / module / "bin" / "python"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "packages" / module / "src")}
    result = subprocess.run(
        [str(python), "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         f"--rootdir={ROOT}", "-c", str(ROOT / "pyproject.toml"), path],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    node_ids = (line for line in result.stdout.splitlines() if "::" in line)
    return {
        node
        for node in node_ids
        if not node.split("::")[0].rsplit("/", 1)[-1].startswith("test_kernels")
    }


def suite(data: dict, name: str) -> list[dict]:
    """The scored tests of one suite (own tests, or integration) in the JSON results."""
    return [t for t in data["tests"] if t["extra_data"]["suite"] == name]


def failed(tests: list[dict]) -> dict[str, str]:
    """Failed test name -> output."""
    return {t["name"]: t["output"] for t in tests if t["status"] == "failed"}


# -- bad input: one line, exit code 2, before any test run ----------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["06_optim", "--path", "packages/05_autograd"], ["names 'gradstack-autograd'",
                                                          "not 'gradstack-optim'"]),
        (["06_optim", "--path", "packages"], ["no pyproject.toml", "06_optim"]),
        (["06_optim", "--path", "no/such/folder"], ["--path no/such/folder: no such folder"]),
        (["66_nothing", "--path", "packages/06_optim"], ["no course module '66_nothing'"]),
        (["06_optim", "--path", "packages/06_optim", "--json", "no/such/dir/r.json"],
         ["--json no/such/dir/r.json: its folder does not exist"]),
        (["06_optim", "--path", "packages/06_optim", "--timeout", "0"], ["--timeout"]),
    ],
    ids=["other-module", "no-pyproject", "missing", "unknown-module", "json-folder", "timeout"],
)  # fmt: skip
def test_bad_test_input_is_one_line_and_exit_2(cli: Any, args: list[str], words: list[str]):
    cli.assert_error(cli.course("test", *args), "course test", *words)


def test_a_copy_with_a_foreign_pyproject_is_refused(cli: Any, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "numpy"\n')
    result = cli.course("test", "05_autograd", "--path", str(tmp_path))
    cli.assert_error(result, "course test", "names 'numpy'", "not a copy of 05_autograd")


def test_status_of_a_folder_without_copies_is_one_line_and_exit_2(cli: Any, tmp_path: Path):
    (tmp_path / "notes").mkdir()
    cli.assert_error(cli.course("status", str(tmp_path)), "course status", "holds no copy")
    missing = cli.course("status", str(tmp_path / "nope"))
    cli.assert_error(missing, "course status", "no such folder")


# -- grading with real test runs ---------------------------------------------------------


@pytest.mark.slow
def test_the_reference_module_scores_100_percent(cli: Any, tmp_path: Path, workdir: Path):
    data, stdout = grade(cli, "06_optim", ROOT / "packages" / "06_optim", tmp_path, workdir)
    assert data["max_score"] > 50  # its own tests plus the integration tests worth points
    assert data["score"] == data["max_score"]
    assert failed(data["tests"]) == {}
    assert len(suite(data, "06_optim")) >= 30 and len(suite(data, "integration")) >= 90
    # kernel tests are never graded (a student's copy has no kernels)
    assert (ROOT / "tests" / "integration" / "test_kernels_gpt_step.py").is_file()
    named = [t["name"] for t in data["tests"]] + data["extra_data"]["skipped"]
    assert [name for name in named if "/test_kernels" in name] == []
    points = f"{data['score']:g}/{data['max_score']:g}"
    assert f"Score: {points} (100.0%)" in stdout.splitlines()[-1]


# 02's own tests that cannot need a student's code: argument checks, erf (not part of the
# assignment), tanh (module 01's op), the empty-softmax shortcut, repr and the base class.
ACTIVATION_BOILERPLATE = re.compile(
    r"test_errors\.py|test_special\.py|tanh|test_softmax_of_an_empty_tensor_is_empty"
    r"|test_repr_and_defaults|test_base_forward_must_be_defined"
)


@pytest.mark.slow
def test_an_untouched_release_scores_0_and_later_modules_fail_with_not_implemented(
    cli,
    tmp_path: Path,
    workdir: Path,
):
    out = tmp_path / "02_activations"
    assert cli.course("release", "02_activations", "--out", str(out)).returncode == 0
    data, stdout = grade(cli, "02_activations", out, tmp_path, workdir)
    own = suite(data, "02_activations")
    own_failed = failed(own)
    passed = [t["name"] for t in own if t["status"] == "passed"]
    assert len(own_failed) >= 35
    assert [name for name in passed if not ACTIVATION_BOILERPLATE.search(name)] == []
    assert sum(t["score"] for t in own if not ACTIVATION_BOILERPLATE.search(t["name"])) == 0
    later = failed(suite(data, "integration"))
    assert len(later) >= 5  # losses, the MLP, the transformer block and GPT need activations
    for name, output in {**own_failed, **later}.items():
        assert "NotImplementedError" in output, (name, output[:300])
        assert not any(word in output for word in IMPORT_ERRORS), (name, output[:300])
    assert any(output.startswith("NotImplementedError: gelu_op: ") for output in later.values())
    assert "failed   tests/regression/test_nlp_components_gradient_flow.py" in stdout


@pytest.fixture
def autograd_with_a_wrong_log_rule(tmp_path: Path) -> Path:
    """A copy of 05_autograd whose ``log`` rule returns g * a instead of g / a."""
    copy = copy_module("05_autograd", tmp_path / "student" / "05_autograd")
    rules = copy / "src" / "gradstack" / "autograd" / "rules" / "tensor.py"
    text = rules.read_text()
    assert text.count("return (g / node.inputs[0].data,)") == 1
    rules.write_text(
        text.replace("return (g / node.inputs[0].data,)", "return (g * node.inputs[0].data,)")
    )
    return copy


def checks_log_gradient(name: str) -> bool:
    """Tests that check the values of the log rule: the gradcheck and torch cases of log."""
    return "[log-" in name and "shapes_and_dtypes" not in name


@pytest.mark.slow
def test_a_wrong_rule_loses_exactly_the_tests_of_that_rule(
    cli: Any, autograd_with_a_wrong_log_rule: Path, tmp_path: Path, workdir: Path
):
    data, _ = grade(cli, "05_autograd", autograd_with_a_wrong_log_rule, tmp_path / "run", workdir)
    lost = failed(data["tests"])
    expected = {t["name"] for t in data["tests"] if checks_log_gradient(t["name"])}
    assert expected  # the gradcheck case of log (its torch case is skipped without torch)
    assert set(lost) == expected
    for name, output in lost.items():
        assert "[log-" in name
        assert output.startswith("AssertionError: gradcheck failed"), output[:300]
        assert re.search(r"analytic \S+ vs numeric \S+", output), output[:300]
        assert "through ops log:" in output, output[:300]  # the message names the op
    assert data["score"] == data["max_score"] - len(lost)


@pytest.mark.slow
def test_status_says_which_copies_are_complete(cli: Any, tmp_path: Path, workdir: Path):
    folder = tmp_path / "student"
    copy_module("06_optim", folder / "06_optim")
    released = cli.course("release", "02_activations", "--out", str(folder / "02_activations"))
    assert released.returncode == 0
    result = cli.course("status", str(folder), "--workdir", str(workdir))
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line}
    assert rows["06_optim"][1:3] == [rows["06_optim"][1], "complete"]
    passed, total = map(int, rows["06_optim"][1].split("/"))
    assert passed == total >= 30
    assert rows["02_activations"][2:4] == ["not", "complete"]
    assert rows["05_autograd"][1:4] == ["-", "no", "copy"]
    assert "1 of 2 module copies complete" in result.stdout


@pytest.mark.slow
def test_a_copy_without_a_readable_version_is_exit_1_with_a_zero_result(cli: Any, tmp_path: Path):
    copy = copy_module("06_optim", tmp_path / "06_optim")
    pyproject = copy / "pyproject.toml"
    text = pyproject.read_text()
    assert 'path = "src/gradstack/optim/__about__.py"' in text
    pyproject.write_text(text.replace("optim/__about__.py", "optim/missing.py"))
    results = tmp_path / "results.json"
    result = cli.course("test", "06_optim", "--path", str(copy), "--json", str(results))
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "gradstack course test: error: cannot read the copy's version" in result.stderr
    assert "optim/missing.py" in result.stderr
    data = json.loads(results.read_text())
    assert (data["score"], data["max_score"]) == (0, 1)
    assert data["output"].startswith("the tests could not run: cannot read the copy's version")


@pytest.mark.slow
def test_a_copy_that_breaks_imports_fails_every_test_of_the_broken_files(
    cli: Any, tmp_path: Path, workdir: Path
):
    copy = copy_module("06_optim", tmp_path / "student" / "06_optim")
    with (copy / "src" / "gradstack" / "optim" / "adam.py").open("a") as source:
        source.write("this line is not Python (\n")
    data, _ = grade(cli, "06_optim", copy, tmp_path / "run", workdir)
    # every test of the module still counts (collected from the reference), and fails
    own = suite(data, "06_optim")
    skipped = set(data["extra_data"]["skipped"])  # on the reference too (torch): not scored
    expected = collected("packages/06_optim/tests", workdir, "06_optim")
    assert {t["name"] for t in own} == expected - skipped
    assert failed(own).keys() == {t["name"] for t in own}
    for output in failed(data["tests"]).values():
        assert output.startswith("not run: its test file could not be imported: SyntaxError")
    # in the integration suite, the one file that imports the optimizers
    later = failed(suite(data, "integration"))
    reference = collected("tests/integration/test_numpy_gpt_reference.py", workdir, "06_optim")
    assert set(later) == reference - skipped
