"""The prepared grading environment of a module, built once per work folder and reused.

``WORK/reference`` is a read-only copy of the checkout (sandbox.py), rebuilt when the
checkout changes. ``WORK/envs/NN_name`` is a virtual environment holding pytest,
hypothesis, the third-party libraries the packages declare, and every reference package
except module NN, installed editable from ``WORK/reference``. Grading a copy then
installs nothing: the copy's ``src`` folder and a small ``.dist-info`` naming its
distribution go first on ``PYTHONPATH`` (runner.py), which is what an editable install
of the copy amounts to. Built with uv when it is on PATH (fast, offline from its cache),
else with ``venv`` and pip.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import GradingError
from .modules import CourseModule, project_name
from .sandbox import copy_reference, fingerprint, remove, set_read_only, tree_hash

TEST_REQUIREMENTS = ("pytest", "hypothesis")
BUILD_TIMEOUT = 900.0
READY = ".gradstack-ready"


def _run(command: list[str], what: str) -> None:
    """Run a build step; GradingError with its last lines if it fails."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=BUILD_TIMEOUT, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GradingError(f"{what}: {error}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise GradingError(f"{what} failed (exit code {done.returncode}):\n{tail}")


def _third_party(reference: Path) -> list[str]:
    """The requirements the reference packages declare, gradstack's own left out."""
    found = []
    pattern = re.compile(r"^\s*\"([^\"]+)\",?\s*$")
    for pyproject in sorted((reference / "packages").glob("*/pyproject.toml")):
        text = pyproject.read_text(encoding="utf-8")
        block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.M | re.S)
        for line in (block.group(1) if block else "").splitlines():
            match = pattern.match(line)
            if match and not match.group(1).startswith("gradstack"):
                found.append(match.group(1))
    return sorted(set(found))


class Prepared:
    """The reference copy and per-module environments in one work folder."""

    def __init__(self, repo: Path, workdir: Path) -> None:
        self.repo = repo
        self.workdir = workdir
        self.reference = workdir / "reference"
        self.prints: dict[str, str] = {}

    def reference_hash(self) -> str:
        """The content hash of the reference copy."""
        return tree_hash(self.prints)

    def refresh(self) -> None:
        """Make ``WORK/reference`` the checkout's current state (rebuilt only when it changed)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="gradstack-reference-")) / "reference"
        copy_reference(self.repo, staging)
        prints = fingerprint(staging)
        stamp = self.workdir / "reference.json"
        current = json.loads(stamp.read_text()) if stamp.is_file() else None
        unchanged = current == tree_hash(prints) and self.reference.is_dir()
        if unchanged and fingerprint(self.reference) == prints:
            remove(staging.parent)
            self.prints = prints
            return
        remove(self.reference)
        for env in (self.workdir / "envs", self.workdir / "baselines"):
            remove(env)
        shutil.move(staging, self.reference)
        remove(staging.parent)
        set_read_only(self.reference)
        self.prints = prints
        stamp.write_text(json.dumps(tree_hash(prints)))

    def changed_reference(self) -> list[str]:
        """Files of ``WORK/reference`` that differ from the checkout's copy (put back at once)."""
        changed = [k for k, v in fingerprint(self.reference).items() if self.prints.get(k) != v]
        changed += [k for k in self.prints if not (self.reference / k).is_file()]
        if changed:
            set_read_only(self.reference, False)
            for key in changed:
                source, target = self.repo / key, self.reference / key
                if key in self.prints and source.is_file():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, target)
                else:
                    target.unlink(missing_ok=True)
            set_read_only(self.reference)
        return sorted(set(changed))

    def python(self, module: CourseModule) -> Path:
        """The interpreter of the module's environment, built on first use."""
        env = self.workdir / "envs" / module.name
        python = env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
        if (env / READY).is_file():
            return python
        remove(env)
        others = [
            folder
            for folder in sorted((self.reference / "packages").iterdir())
            if (folder / "pyproject.toml").is_file() and folder.name != module.name
        ]
        requirements = [*TEST_REQUIREMENTS, *_third_party(self.reference)]
        editable = [arg for folder in others for arg in ("-e", str(folder))]
        uv = shutil.which("uv")
        if uv is not None:
            _run([uv, "venv", "-q", "-p", sys.executable, str(env)], "uv venv")
            base = [uv, "pip", "install", "-q", "-p", str(python)]
            _run([*base, *requirements], "installing " + " ".join(requirements))
            _run([*base, "--no-deps", *editable], "installing the reference packages")
        else:
            _run([sys.executable, "-m", "venv", str(env)], "python -m venv")
            base = [str(python), "-m", "pip", "install", "-q"]
            _run([*base, *requirements], "installing " + " ".join(requirements))
            _run([*base, "--no-deps", *editable], "installing the reference packages")
        (env / READY).write_text(module.distribution)
        return python


def distribution_of(copy: Path) -> tuple[str, str]:
    """A copy's distribution name and version (from the file its pyproject names)."""
    name = project_name(copy)
    text = (copy / "pyproject.toml").read_text(encoding="utf-8")
    path = re.search(r"^\[tool\.hatch\.version\][^\[]*?^path\s*=\s*\"([^\"]+)\"", text, re.M | re.S)
    if path is None:
        raise GradingError(f"{copy / 'pyproject.toml'} names no [tool.hatch.version] path")
    about = copy / path.group(1)
    version = None
    if about.is_file():
        found = re.search(r"^__version__\s*=\s*[\"']([^\"']+)[\"']", about.read_text(), re.M)
        version = found.group(1) if found else None
    if version is None:
        raise GradingError(
            f"cannot read the copy's version: {about} (named by its pyproject.toml) "
            "is missing or assigns no __version__"
        )
    return name, version
