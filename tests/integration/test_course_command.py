"""``gradstack course`` comes from the gradstack-course distribution through an entry point.

The ``gradstack`` command never imports ``gradstack.course``: it adds every command of the
entry-point group ``gradstack.commands``. With every package installed (this env), both
``gradstack course ...`` and ``gradstack-course ...`` release a module.
"""

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

# Repository checks, not a student's work: they earn no points when a module is graded.
pytestmark = pytest.mark.points(0)

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_course_registers_its_command_in_the_plugin_group():
    entries = importlib.metadata.entry_points(group="gradstack.commands")
    assert {e.name: e.value for e in entries} == {"course": "gradstack.course:add_course_parser"}
    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert "gradstack.course:main" in [e.value for e in scripts if e.name == "gradstack-course"]


def test_the_command_package_does_not_import_the_course_package():
    sources = (ROOT / "packages" / "gradstack" / "src").rglob("*.py")
    assert [p.name for p in sources if "gradstack.course" in p.read_text()] == []


@pytest.mark.parametrize(
    "command",
    [["-m", "gradstack.cli", "course"], ["-m", "gradstack.course"]],
    ids=["gradstack", "gradstack-course"],
)
def test_both_commands_release_a_module(command: list[str], tmp_path: Path):
    out = tmp_path / "10_tokenization"
    result = run(*command, "release", "10_tokenization", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("10_tokenization: 4 part(s) to write")
    assert "\n## Assignment\n" in (out / "README.md").read_text()


def test_gradstack_help_lists_the_course_command():
    result = run("-m", "gradstack.cli", "--help")
    assert result.returncode == 0, result.stderr
    assert "    course " in result.stdout
