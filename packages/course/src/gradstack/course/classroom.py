"""``gradstack course grade``: a whole class folder graded in parallel, with a gradebook.

Every entry of the submissions folder is one student: a folder, or a ``.zip`` of one,
named for the student. The module's copy is the folder inside it whose ``pyproject.toml``
names the module's distribution (the entry itself, or up to three levels down). Each
submission is graded like ``course test`` (grading.py: its own sandboxes, the reference's
tests, review flags) by one of ``--jobs`` workers; the module's environment and the
reference's results are prepared once before. A submission that hangs, crashes its
interpreter or fills the disk costs that student their grade, never the run.

Out: ``OUT/results/<student>.json`` (Gradescope's shape, with the content hash of the
submission) and ``OUT/gradebook.csv``. A second run skips every submission whose content
hash, module and reference are those of its stored result.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from .container import container_engine, grade_in_container
from .environment import Prepared
from .errors import GradingError, UsageError
from .files import write_atomic
from .grading import Grading, Ready, grade, not_graded, prepare_module, summary
from .modules import CourseModule, project_name
from .results import FAILED, PASSED, TestResult, gradescope_json, number, percent, score
from .sandbox import IGNORED, copy_folder, remove

SEARCH_DEPTH = 3
ZIP_LIMIT = 200 * 2**20  # uncompressed bytes a submission's zip may hold
GRADEBOOK_FIELDS = ("student", "score", "max", "percent", "needs_review", "failed_tests")


@dataclass(frozen=True)
class Submission:
    """One student's entry in the submissions folder."""

    student: str
    path: Path  # a folder or a .zip


def find_submissions(folder: Path) -> list[Submission]:
    """The entries of the submissions folder: folders and zips, by student name."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder")
    entries = [
        Submission(p.stem if p.suffix == ".zip" else p.name, p)
        for p in sorted(folder.iterdir())
        if not p.name.startswith(".") and (p.is_dir() or p.suffix == ".zip")
    ]
    if not entries:
        raise UsageError(f"{folder}: holds no submission (a folder or a .zip per student)")
    return entries


def content_hash(path: Path) -> str:
    """SHA-256 over a submission's files (relative path and bytes), or a zip's bytes."""
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(path.read_bytes())
        return digest.hexdigest()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        parts = file.relative_to(path).parts
        if any(IGNORED(str(file.parent), [part]) for part in parts):
            continue
        digest.update(file.relative_to(path).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def _extract(archive: Path, target: Path) -> Path:
    """Unpack a submission's zip safely (no absolute paths or ``..``, a size limit)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            if sum(m.file_size for m in members) > ZIP_LIMIT:
                raise GradingError(f"{archive.name} unpacks to more than {ZIP_LIMIT >> 20} MB")
            for member in members:
                name = Path(member.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise GradingError(f"{archive.name} holds the unsafe path {member.filename}")
            zipped.extractall(target)
    except (zipfile.BadZipFile, OSError) as error:
        raise GradingError(f"{archive.name} is not a readable zip: {error}") from None
    return target


def unpacked_copy(path: Path, module: CourseModule, scratch: Path) -> Path:
    """The module's copy in an upload (a folder, its contents, a zip of either, or a folder
    holding such a zip), copied or unpacked into ``scratch``; GradingError if none."""
    if not path.exists():
        raise GradingError(f"{path}: no such file or folder")
    unpacked = scratch / "unpacked"
    if path.is_file():
        _extract(path, unpacked)
    else:
        copy_folder(path, unpacked)
        zips = sorted(unpacked.rglob("*.zip"))
        if len(zips) == 1 and not any(unpacked.rglob("pyproject.toml")):
            _extract(zips[0], scratch / "zip")
            unpacked = scratch / "zip"
    return locate_copy(unpacked, module)


def locate_copy(folder: Path, module: CourseModule) -> Path:
    """The folder inside a submission whose pyproject.toml names the module's distribution."""
    candidates = [folder]
    for depth in range(SEARCH_DEPTH):
        for candidate in candidates:
            if (candidate / "pyproject.toml").is_file():
                try:
                    if project_name(candidate) == module.distribution:
                        return candidate
                except UsageError:
                    continue
        candidates = [d for c in candidates for d in sorted(c.iterdir()) if d.is_dir()]
        if depth == SEARCH_DEPTH - 1 or not candidates:
            break
    raise GradingError(
        f"no copy of {module.name} in the submission (a folder whose pyproject.toml names "
        f"{module.distribution}): upload the module's folder, its contents, or a zip of it"
    )


def grade_submission(
    repo: Path, module: CourseModule, submission: Submission, ready: Ready | None,
    limit: float, container: tuple[str, str] | None = None,
) -> tuple[Grading, float]:  # fmt: skip
    """One submission graded in its own unpacked copy (a failure to grade is a zero), and
    the seconds it took."""
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="gradstack-submission-"))
    try:
        copy = unpacked_copy(submission.path, module, scratch)
        if container is not None:
            grading = grade_in_container(*container, module, copy, scratch, limit)
        else:
            workdir = ready[0].workdir
            grading = grade(
                repo, module, copy, workdir, limit, report=_quiet, limit=limit, ready=ready
            )
    except (GradingError, UsageError, OSError) as error:
        reason = f"could not grade: {error}"
        failed = [TestResult("grader", "grader", FAILED, 1, reason)]
        grading = Grading(failed if ready is None else not_graded(ready[2], reason))
    finally:
        remove(scratch)
    return grading, time.monotonic() - started


def _quiet(_: str) -> None:
    """No progress lines from the workers (the progress bar speaks for them)."""


def _stored(results: Path, student: str) -> dict | None:
    """A student's stored results, None if there are none or they cannot be read."""
    path = results / f"{student}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class ProgressBar:
    """One line on stderr: ``[####......] 12/20 graded``, redrawn in place on a terminal."""

    def __init__(self, total: int, width: int = 30) -> None:
        self.total, self.width, self.done = total, width, 0
        self.lock = threading.Lock()
        self.terminal = sys.stderr.isatty()

    def advance(self, note: str) -> None:
        """Count one submission and redraw."""
        with self.lock:
            self.done += 1
            filled = self.width * self.done // max(self.total, 1)
            bar = "#" * filled + "." * (self.width - filled)
            line = f"[{bar}] {self.done}/{self.total} {note}"
            end = "\r" if self.terminal and self.done < self.total else "\n"
            print(("\r" if self.terminal else "") + line, end=end, file=sys.stderr, flush=True)


def _row(student: str, data: dict) -> dict[str, str]:
    """The gradebook row of one student's results."""
    failed = [t["name"] for t in data.get("tests", []) if t.get("status") != PASSED]
    earned, possible = data.get("score", 0), data.get("max_score", 0)
    return {
        "student": student,
        "score": number(earned),
        "max": number(possible),
        "percent": percent(earned, possible),
        "needs_review": "yes" if data.get("extra_data", {}).get("needs_review") else "no",
        "failed_tests": "; ".join(failed),
    }


def grade_class(
    repo: Path,
    module: CourseModule,
    folder: Path,
    out: Path,
    workdir: Path,
    jobs: int,
    limit: float,
    image: str | None = None,
) -> tuple[int, int]:
    """Grade every submission of ``folder`` into ``out``; (graded, skipped as unchanged).

    With ``image``, each submission is graded inside that container image (container.py).
    """
    container = None if image is None else (container_engine(), image)
    submissions = find_submissions(folder)
    results = out / "results"
    results.mkdir(parents=True, exist_ok=True)
    prepared = Prepared(repo, workdir)
    prepared.refresh()
    key = {"module": module.name, "reference": prepared.reference_hash()}
    todo, rows = [], {}
    for submission in submissions:
        stored = _stored(results, submission.student)
        mark = {**key, "content_hash": content_hash(submission.path)}
        if stored is not None and stored.get("extra_data", {}).get("grading") == mark:
            rows[submission.student] = _row(submission.student, stored)
        else:
            todo.append((submission, mark))
    # the environment and the reference's results, built once before the workers
    ready = prepare_module(repo, module, workdir, limit) if todo and not container else None
    bar = ProgressBar(len(todo))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(grade_submission, repo, module, s, ready, limit, container): (s, mark)
            for s, mark in todo
        }
        for future in as_completed(futures):
            submission, mark = futures[future]
            grading, seconds = future.result()
            text = summary(module, submission.path, grading.results, grading.review)
            data = gradescope_json(grading.results, text, seconds, grading.review)
            data["extra_data"]["grading"] = mark
            payload = json.dumps(data, indent=1).encode("utf-8")
            write_atomic(results / f"{submission.student}.json", payload)
            rows[submission.student] = _row(submission.student, data)
            earned, possible = score(grading.results)
            bar.advance(f"{submission.student}: {number(earned)}/{number(possible)}")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=GRADEBOOK_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows[s.student] for s in submissions)
    write_atomic(out / "gradebook.csv", buffer.getvalue().encode("utf-8"))
    return len(todo), len(submissions) - len(todo)
