"""``gradstack course autograder github``: a GitHub Classroom starter repository.

The repository is the module's student copy (release.py) plus a workflow under
``.github/workflows/`` that follows GitHub Classroom's autograding conventions: it checks
out the student's repository and the instructor's reference checkout (a private
repository named by the variable ``GRADSTACK_REFERENCE``, read with the secret
``GRADSTACK_REFERENCE_TOKEN``), installs gradstack-course from it, grades the copy with
``gradstack-course test --github-output``, which writes the per-test points in the shape
``classroom-resources/autograding-grading-reporter`` reads, and reports them.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .release import ReleasePlan, _paragraph, write_release
from .sandbox import remove

STEP_ID = "gradstack"
WORKFLOW = """\
# GitHub Classroom autograding of gradstack module {name} (written by gradstack-course).
# Set, in the classroom's organization or this repository: the variable GRADSTACK_REFERENCE
# (owner/name of the instructor's private reference checkout) and the secret
# GRADSTACK_REFERENCE_TOKEN (a read-only token for it).
name: Autograding Tests
"on": [push, repository_dispatch, workflow_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: {minutes}
    steps:
      - name: Check out the submission
        uses: actions/checkout@v4
        with:
          path: submission
      - name: Check out the reference
        uses: actions/checkout@v4
        with:
          repository: ${{{{ vars.GRADSTACK_REFERENCE }}}}
          token: ${{{{ secrets.GRADSTACK_REFERENCE_TOKEN }}}}
          path: reference
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install the grader
        run: python -m pip install uv ./reference/packages/course
      - name: Grade {name}
        id: {step}
        run: >-
          {command}
      - name: Autograding Reporter
        if: always()
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          {env}_RESULTS: "${{{{ steps.{step}.outputs.result }}}}"
        with:
          runners: {step}
"""
COMMAND = (
    "gradstack-course test {name} --path submission --repo reference "
    '--workdir "$RUNNER_TEMP/grading" --timeout {timeout:g} --json results.json '
    '--github-output "$GITHUB_OUTPUT"'
)
GITIGNORE = "__pycache__/\n*.egg-info/\n.pytest_cache/\n.hypothesis/\n"


def grading_command(name: str, timeout: float) -> str:
    """The shell command the workflow grades with (the test runs it locally)."""
    return COMMAND.format(name=name, timeout=timeout)


def workflow_text(name: str, timeout: float) -> str:
    """The workflow file of the starter repository."""
    return WORKFLOW.format(
        name=name,
        step=STEP_ID,
        env=STEP_ID.upper(),
        command=grading_command(name, timeout),
        minutes=int(2 * timeout // 60) + 10,
    )


def student_section(plan: ReleasePlan) -> str:
    """What the README tells the student about grading in this repository."""
    name = plan.module.name
    return "\n".join([
        "",
        "## Grading on GitHub Classroom",
        "",
        _paragraph(
            "Every push to this repository is graded by the workflow "
            "`.github/workflows/classroom.yml`: it runs the course's own copy of this "
            f"module's tests and of the later modules' integration tests on your code "
            f"(`gradstack-course test {name}`), with the points of each test. The result "
            "appears under the Actions tab and in GitHub Classroom. Do not edit the "
            "workflow; run the tests locally first (`python -m pytest tests`)."
        ),
        "",
    ])  # fmt: skip


def write_github_starter(repo: Path, plan: ReleasePlan, out: Path, timeout: float) -> None:
    """The starter repository: the student copy, the workflow, a .gitignore."""
    staging = Path(tempfile.mkdtemp(prefix="gradstack-starter-")) / "starter"
    try:
        write_release(plan, staging)
        readme = staging / "README.md"
        readme.write_text(readme.read_text(encoding="utf-8") + student_section(plan))
        workflows = staging / ".github" / "workflows"
        workflows.mkdir(parents=True)
        (workflows / "classroom.yml").write_text(workflow_text(plan.module.name, timeout))
        (staging / ".gitignore").write_text(GITIGNORE)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.rmdir()  # checked empty by the caller
        shutil.move(str(staging), out)
    finally:
        remove(staging.parent)
