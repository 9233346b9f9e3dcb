"""Test results of a grading run: read from pytest's JUnit XML, scored, written back out.

Each testcase carries the properties ``points`` and ``nodeid`` (the repository's root
conftest.py records them). A test is passed, failed (a failure or an error, at any
stage) or skipped; skipped tests earn and cost nothing. The grader scores what its own
pytest plugin reports (grading.py); this module turns results into a table, Gradescope's
JSON and JUnit XML, and reads pytest's JUnit XML back.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
# Longest failure text kept per test (tracebacks of deep failures can be huge).
DETAILS_LIMIT = 4000


@dataclass(frozen=True)
class TestResult:
    """One test of one suite (a tox environment) and what it earned."""

    __test__ = False  # not a pytest test class

    suite: str
    name: str  # the pytest node id, e.g. packages/06_optim/tests/test_sgd.py::test_step
    outcome: str  # passed, failed or skipped
    points: float
    message: str = ""  # one line: the exception and its message
    details: str = ""  # the failure's text (traceback), shortened

    @property
    def earned(self) -> float:
        """Points earned: all of them when passed, none otherwise."""
        return self.points if self.outcome == PASSED else 0

    @property
    def scored(self) -> bool:
        """Whether the test counts towards the score (skipped tests do not)."""
        return self.outcome != SKIPPED


@dataclass(frozen=True)
class CollectionError:
    """A test file that could not be imported."""

    module: str  # dotted path of the file, as pytest writes it: packages.06_optim.tests.test_x
    message: str
    details: str


def _first_line(text: str) -> str:
    """The first non-empty line of ``text``."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def error_line(details: str, fallback: str) -> str:
    """The ``E   ...`` line of a traceback that names the exception, else ``fallback``."""
    lines = [line[1:].strip() for line in details.splitlines() if line.startswith("E ")]
    named = [line for line in lines if re.match(r"[\w.]+(Error|Exception|Exit)\b", line)]
    return (named or lines or [fallback])[0]


def shorten(text: str) -> str:
    """``text`` cut to DETAILS_LIMIT characters, keeping its end (where the error is)."""
    if len(text) <= DETAILS_LIMIT:
        return text
    return "...\n" + text[-DETAILS_LIMIT:]


def _points(value: str | None) -> float:
    """A points property as a number (1 when absent or unreadable)."""
    try:
        number = float(value) if value is not None else 1.0
    except ValueError:
        return 1.0
    return int(number) if number.is_integer() else number


def parse_junit(path: Path, suite: str) -> tuple[list[TestResult], list[CollectionError]]:
    """The tests of one pytest JUnit XML file, and the files that failed to collect."""
    root = ET.parse(path).getroot()
    results: dict[str, TestResult] = {}
    errors = []
    for case in root.iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        problems = [c for c in case if c.tag in ("failure", "error")]
        skipped = case.find("skipped")
        if "nodeid" not in properties:
            if problems and problems[0].get("message") == "collection failure":
                details = problems[0].text or ""
                line = error_line(details, "collection failure")
                errors.append(CollectionError(case.get("name", ""), line, shorten(details)))
            continue
        name = properties["nodeid"]
        if problems:
            details = "\n".join(p.text or "" for p in problems)
            message = (problems[0].get("message") or error_line(details, problems[0].tag)).strip()
            result = TestResult(
                suite, name, FAILED, _points(properties.get("points")), message, shorten(details)
            )
        elif skipped is not None:
            message = skipped.get("message") or "skipped"
            result = TestResult(suite, name, SKIPPED, _points(properties.get("points")), message)
        else:
            result = TestResult(suite, name, PASSED, _points(properties.get("points")))
        previous = results.get(name)  # a teardown error is a second entry for the same test
        if previous is None or previous.outcome != FAILED:
            results[name] = result
    return list(results.values()), errors


def dotted_module(nodeid: str) -> str:
    """The dotted path pytest names a file by in collection errors: ``a/b/t.py`` -> ``a.b.t``."""
    file = nodeid.split("::", 1)[0]
    return file.removesuffix(".py").replace("/", ".")


def score(results: list[TestResult]) -> tuple[float, float]:
    """Points earned and points possible."""
    scored = [r for r in results if r.scored]
    return sum(r.earned for r in scored), sum(r.points for r in scored)


def number(value: float) -> str:
    """A points value without a needless ``.0``."""
    return f"{value:g}"


def percent(earned: float, possible: float) -> str:
    """The score as a percentage with one decimal (100% of nothing is 100%)."""
    return f"{100.0 * earned / possible if possible else 100.0:.1f}%"


def gradescope_json(
    results: list[TestResult], summary: str, seconds: float, review: list[str] = ()
) -> dict:
    """The results in the shape of Gradescope's ``results.json``; review flags in extra_data."""
    earned, possible = score(results)
    return {
        "score": earned,
        "max_score": possible,
        "execution_time": round(seconds, 1),
        "visibility": "visible",
        "stdout_visibility": "visible",
        "output": summary,
        "tests": [
            {
                "name": r.name,
                "score": r.earned,
                "max_score": r.points,
                "status": PASSED if r.outcome == PASSED else FAILED,
                "output": r.message if not r.details else f"{r.message}\n\n{r.details}",
                "extra_data": {"suite": r.suite, "outcome": r.outcome},
            }
            for r in results
            if r.scored
        ],
        "extra_data": {
            "skipped": [r.name for r in results if not r.scored],
            "needs_review": bool(review),
            "review": list(review),
        },
    }


def junit_xml(results: list[TestResult], review: list[str] = ()) -> ET.ElementTree:
    """The results as one JUnit XML document, a testsuite per suite, points as properties.

    Each testsuite carries the properties ``needs_review`` (true/false) and ``review``
    (the reasons, one per line).
    """
    root = ET.Element("testsuites", name="gradstack course test")
    suites: dict[str, ET.Element] = {}
    for result in results:
        suite = suites.get(result.suite)
        if suite is None:
            suite = suites[result.suite] = ET.SubElement(root, "testsuite", name=result.suite)
            flags = ET.SubElement(suite, "properties")
            ET.SubElement(flags, "property", name="needs_review", value=str(bool(review)).lower())
            ET.SubElement(flags, "property", name="review", value="\n".join(review))
        file, _, rest = result.name.partition("::")
        case = ET.SubElement(suite, "testcase", classname=dotted_module(file), name=rest or file)
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="points", value=number(result.points))
        ET.SubElement(properties, "property", name="nodeid", value=result.name)
        if result.outcome == FAILED:
            ET.SubElement(case, "failure", message=result.message).text = result.details
        elif result.outcome == SKIPPED:
            ET.SubElement(case, "skipped", message=result.message)
    for name, suite in suites.items():
        members = [r for r in results if r.suite == name]
        suite.set("tests", str(len(members)))
        suite.set("failures", str(sum(r.outcome == FAILED for r in members)))
        suite.set("errors", "0")
        suite.set("skipped", str(sum(r.outcome == SKIPPED for r in members)))
    ET.indent(root)
    return ET.ElementTree(root)
