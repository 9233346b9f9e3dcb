"""``gradstack course release``: the student copy of a module, and bad input.

The command runs as ``python -m gradstack.course`` (what ``gradstack course`` runs)
in a subprocess, against this checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gradstack.course.modules import course_modules
from gradstack.course.regions import find_regions
from gradstack.course.release import SKIPPED_DIRS, SKIPPED_SUFFIXES

ROOT = Path(__file__).resolve().parents[3]


def released_files(folder: Path) -> dict[str, bytes]:
    """Every file of a module folder (caches left out), by relative path."""
    files = {}
    for path in folder.rglob("*"):
        parts = path.relative_to(folder).parts
        skipped = any(p in SKIPPED_DIRS or p.endswith(".egg-info") for p in parts)
        if path.is_file() and not skipped and not path.name.endswith(SKIPPED_SUFFIXES):
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


@pytest.fixture(scope="module")
def optim_release(cli: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The student copy of 06_optim."""
    out = tmp_path_factory.mktemp("release") / "06_optim"
    result = cli.course("release", "06_optim", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "06_optim: 4 part(s) to write in 4 file(s)" in result.stdout
    return out


def is_kernel(key: str) -> bool:
    """A kernel file or a kernel test of a module folder (left out of every release)."""
    parts = key.split("/")
    if parts[0] == "tests":
        return parts[-1].startswith("test_kernels")
    return parts[0] == "src" and ("kernels" in parts[:-1] or parts[-1] == "kernels.py")


def test_everything_outside_the_regions_is_byte_identical(optim_release: Path):
    reference_folder = ROOT / "packages" / "06_optim"
    reference = {k: v for k, v in released_files(reference_folder).items() if not is_kernel(k)}
    assert any(is_kernel(k) for k in released_files(reference_folder))  # 06 has kernels
    released = released_files(optim_release)
    assert sorted(released) == sorted(reference)
    changed = sorted(k for k in reference if released[k] != reference[k])
    assert changed == [
        "README.md",
        "src/gradstack/optim/adam.py",
        "src/gradstack/optim/clip.py",
        "src/gradstack/optim/schedule.py",
        "src/gradstack/optim/sgd.py",
    ]
    for key in changed[1:]:
        original = reference[key].decode().splitlines()
        student = released[key].decode().splitlines()
        regions = find_regions(reference_folder / key)
        position = 0  # walk both files: equal outside regions, a raise in place of each
        offset = 0
        for region in regions:
            assert (
                student[position + offset : region.begin - 1 + offset]
                == original[position : region.begin - 1]
            )
            stub_start = region.begin - 1 + offset
            head = student[stub_start]
            assert head.startswith(f"{region.indent}raise NotImplementedError("), key
            wrapped = head.endswith("(")  # a long message continues on the next lines
            stub_end = student.index(f"{region.indent})", stub_start) if wrapped else stub_start
            offset += (stub_end - stub_start + 1) - (region.end - region.begin + 1)
            position = region.end
        assert student[position + offset :] == original[position:]


def test_pyproject_and_tests_are_the_references(optim_release: Path):
    reference = ROOT / "packages" / "06_optim"
    assert (optim_release / "pyproject.toml").read_bytes() == (
        reference / "pyproject.toml"
    ).read_bytes()
    for test in (reference / "tests").glob("*.py"):
        if test.name.startswith("test_kernels"):
            assert not (optim_release / "tests" / test.name).exists()
        else:
            assert (optim_release / "tests" / test.name).read_bytes() == test.read_bytes()


def test_readme_gains_an_assignment_section_listing_every_stub(optim_release: Path):
    reference = (ROOT / "packages" / "06_optim" / "README.md").read_text()
    readme = (optim_release / "README.md").read_text()
    assert readme.startswith(reference)
    section = readme[len(reference) :]
    assert section.startswith("\n## Assignment\n")
    for function in ("SGD.step", "Adam._update", "clip_grad_norm_", "cosine_lr"):
        assert f"`{function}`" in section
    assert "`src/gradstack/optim/schedule.py`, line " in section
    assert "gradstack course test 06_optim --path <this folder>" in section


def test_the_released_module_imports_and_each_stub_raises(cli: Any, tmp_path: Path):
    # 10_tokenization needs no other module (and no numpy), so it runs in this env alone
    out = tmp_path / "10_tokenization"
    assert cli.course("release", "10_tokenization", "--out", str(out)).returncode == 0
    code = (
        "import gradstack.tokenization as tok\n"
        f"assert tok.__file__.startswith({str(out)!r}), tok.__file__\n"
        "try:\n"
        "    tok.CharTokenizer().train('hello')\n"
        "except NotImplementedError as error:\n"
        "    print(error)\n"
        "print(type(tok.CharTokenizer()).__name__)\n"  # boilerplate works
    )
    env = {**os.environ, "PYTHONPATH": str(out / "src")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("CharTokenizer.train: the unk token may itself occur in the text")
    assert lines[1] == "CharTokenizer"


def test_release_all_writes_every_module(cli: Any, tmp_path: Path):
    result = cli.course("release", "--all", "--out", str(tmp_path / "course"))
    assert result.returncode == 0, result.stderr
    modules = [m.name for m in course_modules(ROOT)]
    assert sorted(p.name for p in (tmp_path / "course").iterdir()) == modules
    for name in modules:
        assert f"{name}: " in result.stdout
        readme = (tmp_path / "course" / name / "README.md").read_text()
        assert "\n## Assignment\n" in readme
        # benchmark scripts hold complete implementations: never handed out
        assert not (tmp_path / "course" / name / "bench").exists()
        assert (tmp_path / "course" / name / "tests").is_dir()
    assert any((ROOT / "packages" / name / "bench").is_dir() for name in modules)
    assert "no solution regions" not in result.stderr
    # the check tables (and their runner) are data every module's tests run: never stubbed
    tables = [*ROOT.glob("packages/*/src/gradstack/*/gradcheck_*.py")]
    tables += ROOT.glob("packages/*/src/gradstack/*/value_cases.py")
    assert len(tables) >= 12
    for table in tables:
        assert find_regions(table) == [], table
        released = tmp_path / "course" / table.relative_to(ROOT / "packages")
        assert released.read_bytes() == table.read_bytes(), table


def test_release_into_a_folder_that_is_not_empty_is_refused(cli: Any, tmp_path: Path):
    (tmp_path / "keep.txt").write_text("mine")
    result = cli.course("release", "06_optim", "--out", str(tmp_path))
    cli.assert_error(result, "course release", "already exists and is not an empty folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["99_nothing"], ["no course module '99_nothing'", "05_autograd"]),
        (["06_optim", "--all"], ["either a module"]),
        ([], ["either a module"]),
        (["06_optim", "--repo", "/"], ["--repo /: not a gradstack checkout"]),
    ],
)
def test_bad_release_arguments(cli: Any, tmp_path: Path, args: list[str], words: list[str]):
    result = cli.course("release", *args, "--out", str(tmp_path / "out"))
    cli.assert_error(result, "course release", *words)
    assert not (tmp_path / "out").exists()


def fake_checkout(root: Path, ops_source: str) -> Path:
    """A minimal checkout whose module 01 holds ``ops_source`` in ops.py."""
    root.mkdir()
    (root / "tox.ini").write_text(
        "[testenv]\nset_env =\n    GRADSTACK_TENSOR = {env:GRADSTACK_TENSOR:x}\n"
    )
    package = root / "packages" / "01_tensor"
    source = package / "src" / "gradstack" / "tensor"
    source.mkdir(parents=True)
    (package / "pyproject.toml").write_text('[project]\nname = "gradstack-tensor"\n')
    (source / "__init__.py").write_text("")
    (source / "ops.py").write_text(ops_source)
    return root


def test_unbalanced_markers_are_refused_naming_file_and_line(cli: Any, tmp_path: Path):
    ops = "def f():\n    # HINT: one\n    # BEGIN SOLUTION\n    return 1\n"
    repo = fake_checkout(tmp_path / "repo", ops)
    out = tmp_path / "out"
    result = cli.course("release", "01_tensor", "--repo", str(repo), "--out", str(out))
    path = repo / "packages" / "01_tensor" / "src" / "gradstack" / "tensor" / "ops.py"
    cli.assert_error(result, "course release", f"{path}:3:", "never closed")
    assert not out.exists()


def test_repo_is_found_above_the_current_folder(cli: Any, tmp_path: Path):
    ops = (
        "def f():\n    # HINT: return one\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n"
    )
    repo = fake_checkout(tmp_path / "repo", ops)
    result = cli.course("release", "01", "--out", str(tmp_path / "out"), cwd=repo / "packages")
    assert result.returncode == 0, result.stderr
    released = (tmp_path / "out" / "src" / "gradstack" / "tensor" / "ops.py").read_text()
    assert (
        released
        == 'def f():\n    # HINT: return one\n    raise NotImplementedError("f: return one")\n'
    )


def test_outside_a_checkout_without_repo_is_a_clear_error(cli: Any, tmp_path: Path):
    result = cli.course("release", "01_tensor", "--out", str(tmp_path / "out"), cwd=tmp_path)
    cli.assert_error(result, "course release", "cannot find the gradstack checkout", "--repo")


def test_kernels_and_their_tests_are_left_out_and_the_readme_says_where_they_are(
    cli: Any, tmp_path: Path
):
    ops = (
        "def f():\n    # HINT: return one\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n"
    )
    repo = fake_checkout(tmp_path / "repo", ops)
    package = repo / "packages" / "01_tensor"
    source = package / "src" / "gradstack" / "tensor"
    (source / "kernels.py").write_text("def fast_f():\n    return 1\n")
    (source / "kernels").mkdir()
    (source / "kernels" / "matmul.py").write_text("def fast_matmul():\n    return 2\n")
    (package / "tests").mkdir()
    for name in ("test_kernels.py", "test_kernels_matmul.py", "test_ops.py"):
        (package / "tests" / name).write_text("def test_x():\n    assert True\n")
    out = tmp_path / "out"
    result = cli.course("release", "01_tensor", "--repo", str(repo), "--out", str(out))
    assert result.returncode == 0, result.stderr
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "src/gradstack/tensor/__init__.py",
        "src/gradstack/tensor/ops.py",
        "tests/test_ops.py",
    ]
    readme = (out / "README.md").read_text()
    section = readme[readme.index("### The reference also has kernels") :]
    assert "compute the same values" in section and "GRADSTACK_KERNELS=0" in section
    for left_out in ("src/gradstack/tensor/kernels.py", "src/gradstack/tensor/kernels/matmul.py",
                     "tests/test_kernels.py", "tests/test_kernels_matmul.py"):  # fmt: skip
        assert f"`{left_out}`" in section
    assert "`packages/01_tensor/`" in section


def test_a_module_without_kernels_says_nothing_about_them(cli: Any, tmp_path: Path):
    out = tmp_path / "10_tokenization"
    assert cli.course("release", "10_tokenization", "--out", str(out)).returncode == 0
    assert "kernels" not in (out / "README.md").read_text().lower()


@pytest.mark.slow
def test_the_distribution_installs_alone_without_numpy_and_releases(tmp_path: Path):
    venv = tmp_path / "venv"
    uv = shutil.which("uv")
    python = venv / "bin" / "python"
    package = str(ROOT / "packages" / "course")
    if uv is not None:
        create = [uv, "venv", "-q", "-p", sys.executable, str(venv)]
        install = [uv, "pip", "install", "-q", "-p", str(python), package]
    else:
        create = [sys.executable, "-m", "venv", str(venv)]
        install = [str(python), "-m", "pip", "install", "-q", package]
    steps = [create, install]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    numpy = subprocess.run([str(python), "-c", "import numpy"], capture_output=True, text=True)
    assert "No module named 'numpy'" in numpy.stderr
    out = tmp_path / "05_autograd"
    released = subprocess.run([str(venv / "bin" / "gradstack-course"), "release", "05_autograd",
                               "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)  # fmt: skip
    assert released.returncode == 0, released.stderr
    assert released.stdout.startswith("05_autograd: 44 part(s) to write")
    assert (out / "src" / "gradstack" / "autograd" / "rules").is_dir()
