"""``gradstack course release``: write the student copy of a module.

The copy is the module's folder with every solution region of its ``src/`` replaced by
``raise NotImplementedError(...)`` and an "Assignment" section added to its README;
everything else (pyproject.toml, tests, other files) is byte for byte the reference's,
except what would hand the student complete implementations of what they write: the
``bench/`` folder (benchmark scripts, not part of the distribution either) and the
module's kernels (``src/gradstack/<name>/kernels.py`` or ``kernels/``, tuned versions of
its ops) with their equality tests (``tests/test_kernels*.py``). The released package
then runs its reference code only (``load_kernels`` finds no kernels module); its README
says what was left out and where to read it after the assignment.
Every file is prepared in memory first, so a marker error writes nothing, and the copy
is written to a temporary folder that is renamed into place at the end.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .modules import CourseModule
from .regions import MarkerError, Stub, strip_solutions

# Generated or cached files that are never part of a release.
SKIPPED_DIRS = {
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    ".tox",
    ".benchmarks",
    "build",
    "dist",
}
SKIPPED_SUFFIXES = (".pyc", ".pyo")
# Top-level folders of a module left out of a release (see the module docstring).
LEFT_OUT = {"bench"}
# Kernel code (a module or a folder named ``kernels`` in the import package) and its tests.
KERNELS = "kernels"
KERNEL_TESTS = re.compile(r"test_kernels\w*\.py")


@dataclass(frozen=True)
class Assignment:
    """What a released file asks the student to write."""

    file: str  # path inside the module folder, with forward slashes
    stubs: tuple[Stub, ...]


@dataclass(frozen=True)
class ReleasePlan:
    """Every file of a student copy, ready to write."""

    module: CourseModule
    files: dict[str, bytes]  # relative path -> content
    assignments: tuple[Assignment, ...]
    kernels: tuple[str, ...] = ()  # kernel files and tests left out, relative paths

    @property
    def stub_count(self) -> int:
        """How many parts the student writes."""
        return sum(len(a.stubs) for a in self.assignments)


def is_kernel_file(key: str) -> bool:
    """Whether a module file (path relative to its folder) is kernel code or a kernel test."""
    parts = key.split("/")
    if parts[0] == "tests":
        return KERNEL_TESTS.fullmatch(parts[-1]) is not None
    in_package = parts[0] == "src" and len(parts) >= 4  # src/gradstack/<name>/...
    return in_package and (parts[3] == KERNELS + ".py" or parts[3] == KERNELS)


def _package_files(folder: Path) -> list[Path]:
    """The files of a module folder that belong in a release, kernels included, in order."""
    found = []
    for root, dirs, files in os.walk(folder):
        top = Path(root) == folder
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIPPED_DIRS and not d.endswith(".egg-info") and not (top and d in LEFT_OUT)
        )
        found.extend(Path(root) / f for f in sorted(files) if not f.endswith(SKIPPED_SUFFIXES))
    return found


def plan_release(module: CourseModule) -> ReleasePlan:
    """The student copy of ``module`` in memory; UsageError naming file:line on a marker error."""
    files: dict[str, bytes] = {}
    assignments = []
    source_root = module.folder / "src"
    kernels = []
    for path in _package_files(module.folder):
        key = path.relative_to(module.folder).as_posix()
        if is_kernel_file(key):
            kernels.append(key)
            continue
        data = path.read_bytes()
        if path.suffix == ".py" and path.is_relative_to(source_root):
            try:
                released, stubs = strip_solutions(path, data.decode("utf-8"))
            except MarkerError as error:
                raise UsageError(f"cannot release {module.name}: {error}") from None
            if stubs:
                data = released.encode("utf-8")
                assignments.append(Assignment(key, tuple(stubs)))
        files[key] = data
    plan = ReleasePlan(module, files, tuple(assignments), tuple(kernels))
    readme = files.get("README.md", f"# {module.distribution}\n".encode())
    files["README.md"] = readme + assignment_section(plan).encode("utf-8")
    return plan


README_WIDTH = 90


def _paragraph(text: str) -> str:
    """``text`` wrapped for the README."""
    return textwrap.fill(text, README_WIDTH, break_long_words=False, break_on_hyphens=False)


def assignment_section(plan: ReleasePlan) -> str:
    """The README section that lists what to write, where, and how to check it."""
    module = plan.module
    # one line per item: a wrapped formula could start a line with "- " (a nested list)
    items = [
        f"- `{a.file}`, line {stub.line}, `{stub.function}`: {stub.hint}"
        for a in plan.assignments
        for stub in a.stubs
    ]
    blocks = [
        "## Assignment",
        _paragraph(
            f"This is the student copy of module {module.number} of the gradstack course "
            f"(`{module.distribution}`, imported as `gradstack.{module.import_name}`). "
            f"{plan.stub_count} part(s) of its code are left for you to write: each one raises "
            "`NotImplementedError` naming its function and what to write, and the `# HINT:` "
            "comments above it say the same. Replace each `raise` with your code; everything "
            "else is complete and must keep working."
        ),
        "To write (file, line, function: what it computes):",
        "\n".join(items),
        _paragraph(
            "Install the modules this one builds on (your instructor says how; from a "
            "gradstack checkout: `pip install ./packages/<NN_name>` for each), then this copy "
            "in their place, and run its tests:"
        ),
        "\n".join(
            [
                "```sh",
                "pip install pytest hypothesis",
                "pip install --no-deps -e .",
                "python -m pytest tests",
                "```",
            ]
        ),
        _paragraph(
            "Until a part is written, the tests that need it fail with `NotImplementedError` "
            "naming the function. Grading runs the course's own copy of these tests, and the "
            "integration tests of the later modules on top of yours: "
            f"`gradstack course test {module.name} --path <this folder>`."
        ),
    ]
    if plan.kernels:
        blocks += kernel_blocks(plan)
    return "\n" + "\n\n".join(blocks) + "\n"


def kernel_blocks(plan: ReleasePlan) -> list[str]:
    """The README paragraphs on the kernels left out of this copy."""
    module = plan.module
    code = sorted({k for k in plan.kernels if not k.startswith("tests/")})
    tests = sorted(k for k in plan.kernels if k.startswith("tests/"))
    listed = ", ".join(f"`{k}`" for k in code + tests)
    return [
        "### The reference also has kernels",
        _paragraph(
            f"The reference `{module.distribution}` also has kernels: tuned versions of some "
            "of its ops (fused, in place, vectorised differently) that compute the same values "
            "as the plain code you write, faster. They are registered next to each op's plain "
            "version and used unless `GRADSTACK_KERNELS=0` is set, and tests check that both "
            "agree. They are left out of this copy because they contain complete answers: "
            "your copy runs the plain code only, and is graded on it."
        ),
        _paragraph(
            f"After the assignment, read them in the reference checkout under "
            f"`packages/{module.name}/` ({listed}) and compare them with your code."
        ),
    ]


def write_release(plan: ReleasePlan, out: Path) -> None:
    """Write ``plan`` into the folder ``out``, which must not exist or be empty."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: already exists and is not an empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for key, data in plan.files.items():
            target = staging / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            source = plan.module.folder / key
            if source.is_file():
                shutil.copymode(source, target)
        staging.chmod(0o755)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
