"""Scoring: JUnit XML in, per-test results and a score out, Gradescope JSON and JUnit back.

The XML is produced by a real pytest run (in a subprocess) on a small test file, with the
repository's root conftest.py, which records every test's points and node id.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gradstack.course.results import (
    FAILED,
    PASSED,
    SKIPPED,
    TestResult,
    gradescope_json,
    junit_xml,
    parse_junit,
    percent,
    score,
)

ROOT = Path(__file__).resolve().parents[3]

TESTS = """
import pytest

@pytest.mark.points(3)
def test_three_points():
    pass

@pytest.mark.points(0.5)
def test_half_a_point_fails():
    raise NotImplementedError("relu: max(a, 0)")

def test_default_one_point_asserts():
    assert 1 == 2, "gradcheck failed for mul: analytic 1 vs numeric 2"

@pytest.fixture
def broken():
    raise NotImplementedError("fixture: not written")

def test_fixture_error(broken):
    pass

def test_skipped():
    pytest.skip("no torch")

@pytest.fixture
def bad_teardown():
    yield
    raise RuntimeError("teardown went wrong")

def test_passes_then_teardown_fails(bad_teardown):
    pass
"""


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in ``folder`` with the repository's root conftest.py copied next to its tests."""
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    (folder / "pytest.ini").write_text("[pytest]\nmarkers =\n    points(n): points\n")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def junit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JUnit XML of the small test file above."""
    folder = tmp_path_factory.mktemp("run")
    (folder / "test_sample.py").write_text(TESTS)
    (folder / "test_broken_import.py").write_text(
        "import no_such_module_here\n\ndef test_x():\n    pass\n"
    )
    result = run_pytest(folder, "--junitxml=out.xml", "--continue-on-collection-errors")
    assert result.returncode == 1, result.stdout + result.stderr
    return folder / "out.xml"


def by_name(results: list[TestResult]) -> dict[str, TestResult]:
    """Results keyed by the test function's name."""
    return {r.name.split("::")[-1]: r for r in results}


def test_outcomes_points_and_messages(junit: Path):
    results, errors = parse_junit(junit, "suite")
    tests = by_name(results)
    assert sorted(tests) == [
        "test_default_one_point_asserts",
        "test_fixture_error",
        "test_half_a_point_fails",
        "test_passes_then_teardown_fails",
        "test_skipped",
        "test_three_points",
    ]
    assert tests["test_three_points"].name == "test_sample.py::test_three_points"
    assert (tests["test_three_points"].outcome, tests["test_three_points"].points) == (PASSED, 3)
    half = tests["test_half_a_point_fails"]
    assert (half.outcome, half.points, half.earned) == (FAILED, 0.5, 0)
    assert half.message == "NotImplementedError: relu: max(a, 0)"
    assert "NotImplementedError" in half.details
    asserts = tests["test_default_one_point_asserts"]
    assert asserts.points == 1
    assert asserts.message.startswith("AssertionError: gradcheck failed for mul")
    assert tests["test_fixture_error"].outcome == FAILED
    assert "fixture: not written" in tests["test_fixture_error"].message
    assert tests["test_passes_then_teardown_fails"].outcome == FAILED  # a teardown error counts
    assert tests["test_skipped"].outcome == SKIPPED
    assert all(r.suite == "suite" for r in results)
    assert [e.module for e in errors] == ["test_broken_import"]
    assert "No module named 'no_such_module_here'" in errors[0].message


def test_score_counts_points_and_leaves_skipped_tests_out(junit: Path):
    results, _ = parse_junit(junit, "suite")
    assert score(results) == (3, 3 + 0.5 + 1 + 1 + 1)
    assert percent(3, 6.5) == "46.2%"
    assert percent(0, 0) == "100.0%"


def test_points_manifest_lists_the_collected_tests(tmp_path: Path):
    (tmp_path / "test_sample.py").write_text(TESTS)
    result = run_pytest(tmp_path, "--collect-only", "--points-manifest=manifest.json")
    assert result.returncode == 0, result.stdout + result.stderr
    tests = json.loads((tmp_path / "manifest.json").read_text())["tests"]
    points = {t["nodeid"].split("::")[-1]: t["points"] for t in tests}
    assert points["test_three_points"] == 3
    assert points["test_half_a_point_fails"] == 0.5
    assert points["test_skipped"] == 1
    assert len(points) == 6


@pytest.mark.parametrize("marker", ["points()", "points(-1)", "points('two')", "points(True)"])
def test_a_malformed_points_marker_is_a_usage_error(tmp_path: Path, marker: str):
    (tmp_path / "test_bad.py").write_text(
        f"import pytest\n\n@pytest.mark.{marker}\ndef test_a():\n    pass\n"
    )
    result = run_pytest(tmp_path)
    assert result.returncode == 4, result.stdout + result.stderr  # pytest's usage-error code
    assert "test_bad.py::test_a: @pytest.mark.points takes one non-negative number" in (
        result.stdout + result.stderr
    )


def test_gradescope_json_shape(junit: Path):
    results, _ = parse_junit(junit, "05_autograd")
    data = gradescope_json(results, "summary text", 12.34)
    assert (data["score"], data["max_score"]) == (3, 6.5)
    assert data["output"] == "summary text"
    assert data["visibility"] == "visible" and data["stdout_visibility"] == "visible"
    assert data["execution_time"] == 12.3
    tests = {t["name"].split("::")[-1]: t for t in data["tests"]}
    assert "test_skipped" not in tests  # not scored; listed apart
    assert data["extra_data"]["skipped"] == ["test_sample.py::test_skipped"]
    half = tests["test_half_a_point_fails"]
    assert {key: half[key] for key in ("score", "max_score", "status")} == {
        "score": 0,
        "max_score": 0.5,
        "status": "failed",
    }
    assert half["output"].startswith("NotImplementedError: relu: max(a, 0)\n\n")
    assert half["extra_data"] == {"suite": "05_autograd", "outcome": "failed"}
    assert tests["test_three_points"]["status"] == "passed"
    assert tests["test_three_points"]["score"] == 3
    json.dumps(data)  # serializable as is


def test_merged_junit_reads_back_to_the_same_results(junit: Path, tmp_path: Path):
    results, _ = parse_junit(junit, "05_autograd")
    results += [TestResult("integration", "tests/test_i.py::test_i", PASSED, 2)]
    path = tmp_path / "merged.xml"
    junit_xml(results).write(path, encoding="utf-8", xml_declaration=True)
    again = parse_junit(path, "05_autograd")[0]
    assert [(r.name, r.outcome, r.points, r.message) for r in again] == [
        (r.name, r.outcome, r.points, r.message) for r in results
    ]
    text = path.read_text()
    assert '<testsuite name="05_autograd" tests="6" failures="4" errors="0" skipped="1">' in text
    assert '<testsuite name="integration" tests="1" failures="0"' in text
