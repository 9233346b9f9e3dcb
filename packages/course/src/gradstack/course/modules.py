"""The course's modules as the reference checkout lays them out, and a student's copy of one.

A module is a folder ``packages/NN_name`` of the reference checkout holding a
``pyproject.toml``; its distribution name comes from that file, its import name from
``src/gradstack/<name>``, and the variable that swaps it in tox is ``GRADSTACK_<NAME>``
(tox.ini, constraints.txt). The command package ``packages/gradstack`` is not a module.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

MODULE_FOLDER = re.compile(r"\d\d_[a-z0-9_]+")


@dataclass(frozen=True)
class CourseModule:
    """One module of the course in the reference checkout."""

    folder: Path  # packages/NN_name
    distribution: str  # gradstack-autograd
    import_name: str  # autograd (gradstack.autograd)

    @property
    def name(self) -> str:
        """The folder name, which is also the tox environment: ``05_autograd``."""
        return self.folder.name

    @property
    def number(self) -> str:
        """The course number: ``05``."""
        return self.name[:2]

    @property
    def env_var(self) -> str:
        """The variable that points tox at a copy of this module: ``GRADSTACK_AUTOGRAD``."""
        return f"GRADSTACK_{self.import_name.upper()}"

    @property
    def source(self) -> Path:
        """The module's import package: ``src/gradstack/<name>``."""
        return self.folder / "src" / "gradstack" / self.import_name


def _project_name_fallback(text: str) -> str | None:
    """``[project] name`` read without a TOML parser (Python 3.10 without tomli)."""
    table = re.search(r"^\[project\][ \t]*$(?P<body>.*?)(?=^\[|\Z)", text, re.M | re.S)
    if table is None:
        return None
    name = re.search(r"^name\s*=\s*([\"'])(?P<name>[^\"']+)\1\s*$", table.group("body"), re.M)
    return None if name is None else name.group("name")


def project_name(folder: Path) -> str:
    """``[project].name`` of ``folder/pyproject.toml``; UsageError if missing or unreadable."""
    path = folder / "pyproject.toml"
    if not path.is_file():
        raise UsageError(f"{folder} has no pyproject.toml: it is not a copy of a gradstack module")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None
    if tomllib is None:
        name = _project_name_fallback(text)
    else:
        try:
            name = tomllib.loads(text).get("project", {}).get("name")
        except tomllib.TOMLDecodeError as error:
            raise UsageError(f"{path} is not valid TOML: {error}") from None
    if not isinstance(name, str) or not name:
        raise UsageError(f"{path} has no [project] name")
    return name


def find_repo(start: Path | None = None) -> Path:
    """The reference checkout: the first folder at or above ``start`` with tox.ini and 01."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_repo(folder):
            return folder
    raise UsageError(
        f"cannot find the gradstack checkout (a folder holding tox.ini and packages/01_tensor) "
        f"at or above {here}; pass --repo PATH"
    )


def is_repo(folder: Path) -> bool:
    """Whether ``folder`` looks like the root of a gradstack checkout."""
    return (folder / "tox.ini").is_file() and (folder / "packages" / "01_tensor").is_dir()


REPO_VARIABLE = "GRADSTACK_COURSE_REPO"


def checked_repo(path: str | None) -> Path:
    """``--repo`` if given (checked), else ``$GRADSTACK_COURSE_REPO``, else the checkout
    found above the current folder."""
    path = path or os.environ.get(REPO_VARIABLE) or None
    if path is None:
        return find_repo()
    repo = Path(path).expanduser().resolve()
    if not is_repo(repo):
        raise UsageError(
            f"--repo {path}: not a gradstack checkout (expected tox.ini and packages/01_tensor)"
        )
    return repo


def _import_name(folder: Path) -> str:
    """The single package under ``src/gradstack`` of a module folder."""
    names = sorted(
        p.name for p in (folder / "src" / "gradstack").glob("*") if (p / "__init__.py").is_file()
    )
    if len(names) != 1:
        raise UsageError(
            f"{folder}: expected exactly one package under src/gradstack, found {names or 'none'}"
        )
    return names[0]


def course_modules(repo: Path) -> list[CourseModule]:
    """Every module of the checkout, in course order."""
    folders = sorted(
        p
        for p in (repo / "packages").iterdir()
        if MODULE_FOLDER.fullmatch(p.name) and (p / "pyproject.toml").is_file()
    )
    return [CourseModule(f, project_name(f), _import_name(f)) for f in folders]


def resolve_module(repo: Path, name: str) -> CourseModule:
    """A module by folder name (``05_autograd``), number (``05``), import or distribution name."""
    modules = course_modules(repo)
    for module in modules:
        if name in (module.name, module.number, module.import_name, module.distribution):
            check_swappable(repo, module)
            return module
    known = ", ".join(m.name for m in modules)
    raise UsageError(f"no course module {name!r} in {repo / 'packages'}; the modules are {known}")


def check_swappable(repo: Path, module: CourseModule) -> None:
    """tox.ini must read the module's variable, or a swap would silently test the reference."""
    tox_ini = (repo / "tox.ini").read_text(encoding="utf-8")
    if f"{{env:{module.env_var}:" not in tox_ini:
        raise UsageError(
            f"{repo / 'tox.ini'} does not read {module.env_var}, so tox cannot swap "
            f"{module.name} for a copy (see the README, 'Adding a package')"
        )


def student_copy(module: CourseModule, path: str) -> Path:
    """``--path``: an existing folder whose pyproject names the module's distribution."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise UsageError(f"--path {path}: no such folder")
    if not (folder / "pyproject.toml").is_file():
        raise UsageError(
            f"--path {path}: no pyproject.toml there, so it is not a copy of {module.name}"
        )
    name = project_name(folder)
    if _normalized(name) != _normalized(module.distribution):
        raise UsageError(
            f"--path {path}: its pyproject.toml names {name!r}, not {module.distribution!r}: "
            f"it is not a copy of {module.name}"
        )
    return folder.resolve()


def _normalized(distribution: str) -> str:
    """PEP 503 normalized form, so ``gradstack_tensor`` matches ``gradstack-tensor``."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def relative(path: Path, start: Path | None = None) -> str:
    """``path`` relative to ``start`` (default: the current folder) when below it."""
    base = start or Path.cwd()
    try:
        return os.path.relpath(path, base) if path.is_relative_to(base) else str(path)
    except ValueError:
        return str(path)
