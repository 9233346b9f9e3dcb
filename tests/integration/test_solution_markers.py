"""Solution markers in every package's source: balanced, in functions, hinted, releasable.

These are the rules ``gradstack course release`` applies (the same parser), checked on
every commit so a broken marker is found before an instructor releases the module. They
check the course material, not a student's code, so they are worth no points when
``gradstack course test`` grades a copy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gradstack.course.regions import BEGIN, END, find_regions, strip_solutions

pytestmark = pytest.mark.points(0)

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(p for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").is_file())
# the command and the course tooling are not assignments
MODULES = [p for p in PACKAGES if p.name not in ("gradstack", "course")]
SOURCES = sorted(f for p in PACKAGES for f in (p / "src").rglob("*.py"))


def test_every_package_has_sources_to_check():
    assert len(MODULES) >= 10
    assert all(any(f.is_relative_to(p) for f in SOURCES) for p in PACKAGES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_markers_are_balanced_and_the_file_releases(path: Path):
    text = path.read_text(encoding="utf-8")
    released, stubs = strip_solutions(path, text)  # MarkerError names file:line if not
    assert len(stubs) == len(find_regions(path, text))
    left = [line for line in released.splitlines() if line.strip() in (BEGIN, END)]
    assert left == []  # the student's copy keeps the hints, never a solution marker


@pytest.mark.parametrize("package", MODULES, ids=lambda p: p.name)
def test_every_module_has_solution_regions_with_hints(package: Path):
    regions = [r for f in sorted((package / "src").rglob("*.py")) for r in find_regions(f)]
    assert regions, f"{package.name} has no solution region: nothing for a student to write"
    unhinted = [f"{r.path.relative_to(ROOT)}:{r.begin}" for r in regions if not r.hint]
    assert unhinted == []
