"""``gradstack course grade``: a class folder of generated submissions of 10_tokenization.

The folder holds a reference copy, the same zipped, an untouched release, a release
with a syntax error one folder down, one that hangs at import, one that aborts the
interpreter at import, and an empty folder. The gradebook must give each its own grade,
a hang or a crash costing only that student; a second run re-grades nothing, and a
changed submission is graded again.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
MODULE = "10_tokenization"


def append(copy: Path, code: str) -> None:
    """Add ``code`` at the end of the module's ``__init__.py``."""
    init = copy / "src" / "gradstack" / "tokenization" / "__init__.py"
    init.write_text(init.read_text() + code)


@pytest.fixture(scope="module")
def submissions(cli: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One entry per student, each a different case."""
    folder = tmp_path_factory.mktemp("class") / "submissions"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    shutil.copytree(ROOT / "packages" / MODULE, folder / "ada", ignore=ignore)
    assert cli.course("release", MODULE, "--out", str(folder / "bob")).returncode == 0
    shutil.copytree(folder / "bob", folder / "cy" / "work" / MODULE)
    char = folder / "cy" / "work" / MODULE / "src" / "gradstack" / "tokenization" / "char.py"
    char.write_text(char.read_text() + "this line is not Python (\n")
    shutil.copytree(folder / "ada", folder / "dee")
    append(folder / "dee", "\nimport time as _time\n\nwhile True:\n    _time.sleep(1)\n")
    with zipfile.ZipFile(folder / "eve.zip", "w") as archive:
        for path in sorted((folder / "ada").rglob("*")):
            archive.write(path, Path(MODULE) / path.relative_to(folder / "ada"))
    (folder / "fay").mkdir()
    shutil.copytree(folder / "ada", folder / "gus")
    append(folder / "gus", "\nimport os as _os\n\n_os.abort()\n")
    return folder


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    """The rows of gradebook.csv by student."""
    with (out / "gradebook.csv").open(newline="") as stream:
        return {row["student"]: row for row in csv.DictReader(stream)}


@pytest.mark.slow
def test_a_class_folder_grades_in_one_command_and_regrades_only_what_changed(
    cli: Any, submissions: Path, workdir: Path, tmp_path: Path
):
    out = tmp_path / "grades"
    args = ["grade", str(submissions), "--module", MODULE, "--jobs", "2", "--out", str(out),
            "--workdir", str(workdir), "--timeout", "90"]  # fmt: skip
    first = cli.course(*args)
    assert first.returncode == 0, first.stderr
    assert "7 submission(s) graded, 0 unchanged" in first.stdout
    assert "7/7" in first.stderr  # the progress bar reached the end
    rows = gradebook(out)
    assert list(rows) == ["ada", "bob", "cy", "dee", "eve", "fay", "gus"]
    maximum = rows["ada"]["max"]
    assert all(row["max"] == maximum for row in rows.values())  # the reference's maximum
    assert rows["ada"]["percent"] == rows["eve"]["percent"] == "100.0%"
    assert rows["ada"]["failed_tests"] == ""
    assert 0 < float(rows["cy"]["score"]) < float(rows["bob"]["score"]) < float(maximum)
    for student in ("dee", "fay", "gus"):
        assert rows[student]["score"] == "0", student
    assert [s for s, row in rows.items() if row["needs_review"] == "yes"] == ["gus"]
    results = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    assert sorted(results) == sorted(rows)
    hang = {t["output"].split("\n")[0] for t in results["dee"]["tests"]}
    assert any("did not finish within" in line for line in hang), hang
    empty = {t["output"] for t in results["fay"]["tests"]}
    assert len(empty) == 1 and next(iter(empty)).startswith("could not grade: no copy of")
    crash = results["gus"]["extra_data"]["review"]
    assert any("ended before pytest finished" in reason for reason in crash), crash
    stored = {p.name: p.read_bytes() for p in (out / "results").iterdir()}

    second = cli.course(*args)
    assert second.returncode == 0, second.stderr
    assert "0 submission(s) graded, 7 unchanged" in second.stdout
    assert {p.name: p.read_bytes() for p in (out / "results").iterdir()} == stored
    assert gradebook(out) == rows

    readme = submissions / "bob" / "README.md"
    readme.write_text(readme.read_text() + "\nmy notes\n")
    third = cli.course(*args)
    assert "1 submission(s) graded, 6 unchanged" in third.stdout
    assert gradebook(out)["bob"] == rows["bob"]


def test_container_grading_without_an_engine_is_one_clear_line(cli: Any, tmp_path: Path):
    (tmp_path / "submissions" / "ada").mkdir(parents=True)
    # a PATH that holds this interpreter only: no docker, no podman
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    result = subprocess.run(
        [sys.executable, "-m", "gradstack.course", "grade", str(tmp_path / "submissions"),
         "--module", MODULE, "--container", "gradstack-grader", "--out", str(tmp_path / "out")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    cli.assert_error(result, "course grade", "--container: no container engine is available")
    assert not (tmp_path / "out").exists()  # nothing graded, nothing written
