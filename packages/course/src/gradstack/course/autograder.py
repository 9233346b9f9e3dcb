"""``gradstack course autograder gradescope``: the zip Gradescope's autograder runs.

``gradescope NN_name --out autograder.zip`` writes the zip Gradescope's "Zip file upload"
expects: ``setup.sh``, ``run_autograder`` and ``gradstack/`` (the reference checkout's
subset the grader needs), unpacked by Gradescope into ``/autograder/source``.
``setup.sh`` prepares the module's grading environment and the reference's results in
``work/`` (the only step that uses the network, through uv or pip); ``run_autograder``
grades whatever was uploaded (the folder, its contents, or a zip) into
``results/results.json``. Both run gradstack-course from ``source/gradstack`` (standard
library only: nothing to install). Every path derives from ``AUTOGRADER_ROOT`` (default
``/autograder``), so the bundle runs outside Gradescope too.
"""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from pathlib import Path

from .modules import CourseModule
from .sandbox import copy_reference, remove

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope setup.sh for gradstack module {name}: prepare the grading of the module.
set -euo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{PYTHON:-python3}}"
# gradstack-course is standard library only: it runs from the bundle's source, uninstalled
export PYTHONPATH="$ROOT/source/gradstack/packages/course/src"
command -v uv > /dev/null || "$PYTHON" -m pip install --quiet uv || true
# the grading environment and the reference's results (the network is used here only);
# the reference itself must score 100%
"$PYTHON" -m gradstack.course test {name} --path "$ROOT/source/gradstack/packages/{name}" \\
    --repo "$ROOT/source/gradstack" --workdir "$ROOT/work" > "$ROOT/setup-check.txt"
tail -n 1 "$ROOT/setup-check.txt"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope run_autograder for gradstack module {name}: grade the upload, write results.json.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{PYTHON:-python3}}"
export PYTHONPATH="$ROOT/source/gradstack/packages/course/src"
mkdir -p "$ROOT/results"
"$PYTHON" -m gradstack.course test {name} --submission "$ROOT/submission" \\
    --repo "$ROOT/source/gradstack" --workdir "$ROOT/work" --timeout {timeout:g} \\
    --json "$ROOT/results/results.json"
status=$?
# exit 1 (nothing could run) still wrote results.json with the reason; 2 is a grader bug
if [ "$status" -gt 1 ]; then
    echo '{{"score": 0, "output": "The grader failed: tell your instructor."}}' \\
        > "$ROOT/results/results.json"
fi
exit 0
"""

EXECUTABLE = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH


def _add_file(archive: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    """One file in the zip with its permission bits (Gradescope runs the scripts)."""
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def write_gradescope_bundle(repo: Path, module: CourseModule, out: Path, timeout: float) -> int:
    """Write the autograder zip for ``module``; the number of files in it."""
    values = {"name": module.name, "timeout": timeout}
    staging = Path(tempfile.mkdtemp(prefix="gradstack-bundle-"))
    try:
        source = copy_reference(repo, staging / "gradstack")
        partial = out.with_name(f".{out.name}.partial")
        with zipfile.ZipFile(partial, "w") as archive:
            _add_file(archive, "setup.sh", SETUP_SH.format(**values).encode(), EXECUTABLE)
            run = RUN_AUTOGRADER.format(**values).encode()
            _add_file(archive, "run_autograder", run, EXECUTABLE)
            files = sorted(p for p in source.rglob("*") if p.is_file())
            for path in files:
                name = path.relative_to(staging).as_posix()
                _add_file(archive, name, path.read_bytes(), path.stat().st_mode & 0o777)
        os.replace(partial, out)
        return len(files) + 2
    finally:
        remove(staging)
