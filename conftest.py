"""Repository-wide pytest hooks: what each test is worth when a course module is graded.

``@pytest.mark.points(n)`` (declared in pyproject.toml) gives a test's points; a test
without it is worth 1. Each test records its points and node id as properties, which
``--junitxml`` writes into the XML that ``gradstack course test`` scores.
``--points-manifest=FILE`` writes the collected tests and their points as JSON: the
grader collects the reference tests this way to count, as failed, the tests of a file
that could not even be imported with a student's module.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--points-manifest",
        metavar="FILE",
        default=None,
        help="write the collected tests with their points to FILE as JSON (course grading)",
    )


def points_of(item: pytest.Item) -> float:
    """The item's ``points(n)`` marker value, 1 without one; UsageError if malformed."""
    marker = item.get_closest_marker("points")
    if marker is None:
        return 1
    value = marker.args[0] if len(marker.args) == 1 and not marker.kwargs else None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.points takes one non-negative number, "
            f"got args {marker.args} and kwargs {marker.kwargs}"
        )
    return value


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.user_properties.append(("points", points_of(item)))
        item.user_properties.append(("nodeid", item.nodeid))


def pytest_collection_finish(session: pytest.Session) -> None:
    target = session.config.getoption("points_manifest", default=None)
    if not target:
        return
    tests = [{"nodeid": item.nodeid, "points": points_of(item)} for item in session.items]
    path = Path(target)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({"tests": tests}, indent=1), encoding="utf-8")
    os.replace(partial, path)
