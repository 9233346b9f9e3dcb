"""Throwaway copies of the reference checkout, made read-only, and their fingerprints.

Every grading runs in a copy of what the tests need (the root ``pyproject.toml``,
``conftest.py``, ``tox.ini``, ``constraints.txt`` and ``README.md``, ``packages/``, ``tests/``,
``bench/`` and ``.ci/``), never in the checkout: whatever the code
under test writes lands in the copy and is thrown away with it. The copy is made
read-only where the platform allows (a process of the same user can undo that: see
docs/course.md, "Threat model"), and its fingerprint (a hash of every file) taken before
a run and compared after says which files a run changed or added.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

# What the reference tests need from the checkout.
# (README.md and .ci/ for the integration check that every package has its env, variable and
# README row: tests/integration/test_package_list.py.)
REFERENCE_FILES = ("pyproject.toml", "conftest.py", "tox.ini", "constraints.txt", "README.md")
REFERENCE_FOLDERS = ("packages", "tests", "bench", ".ci")
IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".hypothesis", ".tox", "*.egg-info",
    "build", "dist", ".benchmarks",
)  # fmt: skip
WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def copy_reference(repo: Path, target: Path) -> Path:
    """Copy what the tests need from the checkout ``repo`` into the new folder ``target``."""
    target.mkdir(parents=True)
    for name in REFERENCE_FILES:
        if (repo / name).is_file():
            shutil.copy2(repo / name, target / name)
    for name in REFERENCE_FOLDERS:
        if (repo / name).is_dir():
            shutil.copytree(repo / name, target / name, ignore=IGNORED, symlinks=True)
    return target


def copy_folder(source: Path, target: Path) -> Path:
    """A copy of a student's folder, caches left out."""
    shutil.copytree(source, target, ignore=IGNORED, symlinks=True)
    return target


def _walk(folder: Path) -> list[Path]:
    """Every file and folder below ``folder``, folders after their contents."""
    found = []
    for root, dirs, files in os.walk(folder, topdown=False):
        found += [Path(root) / f for f in files] + [Path(root) / d for d in dirs]
    return found


def set_read_only(folder: Path, read_only: bool = True) -> None:
    """Remove (or give back) the write permission of every file and folder below ``folder``."""
    for path in [*_walk(folder), folder]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode & ~WRITE_BITS if read_only else mode | stat.S_IWUSR)


def remove(folder: Path) -> None:
    """Delete a throwaway folder, read-only or not."""
    if folder.exists():
        set_read_only(folder, False)
        shutil.rmtree(folder, ignore_errors=True)


def fingerprint(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file below ``folder`` (caches left out)."""
    prints = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                prints[path.relative_to(folder).as_posix()] = "link"
                continue
            prints[path.relative_to(folder).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return prints


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Files changed, added or removed between two fingerprints."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def tree_hash(prints: dict[str, str]) -> str:
    """One hash for a whole fingerprint (the content hash of a folder)."""
    digest = hashlib.sha256()
    for key in sorted(prints):
        digest.update(f"{key}\0{prints[key]}\n".encode())
    return digest.hexdigest()
