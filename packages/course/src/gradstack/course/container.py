"""``gradstack course grade --container IMAGE``: each submission graded inside a container.

The image is the one ``container/Dockerfile`` builds (reference, gradstack-course and the
prepared environments inside; entry point ``gradstack-course``). Each grading runs
``docker run`` (or podman) with no network, a read-only file system, a 1 GB ``/tmp``
in memory, limits on memory and processes, the unpacked copy mounted read-only at
``/submission`` and a results folder at ``/results``; the container's ``results.json``
becomes the student's results.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import uuid
from pathlib import Path

from .errors import GradingError, UsageError
from .grading import Grading
from .modules import CourseModule
from .results import FAILED, PASSED, SKIPPED, TestResult

ENGINES = ("docker", "podman")


def container_engine() -> str:
    """The first container engine on PATH whose daemon answers; UsageError if none."""
    for name in ENGINES:
        found = shutil.which(name)
        if found is None:
            continue
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            check = subprocess.run([found, "info"], capture_output=True, timeout=30)
            if check.returncode == 0:
                return found
    raise UsageError(
        "--container: no container engine is available (docker or podman not installed, or "
        "its daemon not running); start one, or grade without --container (docs/course.md, "
        "'Threat model')"
    )


def _results(data: dict) -> Grading:
    """The Gradescope-shaped JSON the container wrote, back as results and review flags."""
    results = [
        TestResult(
            test.get("extra_data", {}).get("suite", "container"), test["name"],
            PASSED if test["status"] == PASSED else FAILED, test["max_score"],
            test.get("output", "").split("\n", 1)[0],
        )
        for test in data.get("tests", [])
    ]  # fmt: skip
    extra = data.get("extra_data", {})
    results += [TestResult("container", name, SKIPPED, 0) for name in extra.get("skipped", [])]
    return Grading(results, list(extra.get("review", [])))


def grade_in_container(
    engine: str, image: str, module: CourseModule, copy: Path, scratch: Path, limit: float
) -> Grading:
    """Grade one unpacked copy inside ``image``; GradingError if the container failed."""
    out = scratch / "container-results"
    out.mkdir()
    name = f"gradstack-{uuid.uuid4().hex[:12]}"
    command = [
        engine, "run", "--rm", "--name", name, "--network", "none", "--read-only",
        "--tmpfs", "/tmp:rw,size=1g", "--memory", "4g", "--pids-limit", "512",
        "-v", f"{copy}:/submission:ro", "-v", f"{out}:/results",
        image, "test", module.name, "--path", "/submission", "--timeout", f"{limit:g}",
        "--json", "/results/results.json",
    ]  # fmt: skip
    try:
        subprocess.run(command, capture_output=True, timeout=limit + 120)
    except subprocess.TimeoutExpired:
        subprocess.run([engine, "kill", name], capture_output=True, timeout=60)
        raise GradingError(f"the container did not finish within {limit + 120:g} s") from None
    try:
        return _results(json.loads((out / "results.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError) as error:
        raise GradingError(f"the container wrote no readable results: {error}") from None
