"""All-or-nothing checkpoints: a training run killed at every step of a save, a save that
fails with ENOSPC or EIO, and two runs on one folder.

The fault comes from the test-only variable ``GRADSTACK_TEST_SAVE_FAULT`` (``kill:N``,
``enospc:N``, ``eio:N``), read in one place of ``gradstack.transformer.store``: the N-th
durable step (mkdir, file write, fsync, rename, remove) of the process is interrupted.
A run of ``ARGS`` takes these steps: 1-3 rewrite metrics.jsonl at the start; 4-20 the
first save (step 10): mkdir, five files x (create, fsync), fsync the folder, rename it,
fsync the run folder, then CURRENT (fsync, replace = the commit, fsync); 21-37 the
second save (step 20), the same seventeen steps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FAULT = "GRADSTACK_TEST_SAVE_FAULT"
KILLED = 86  # the exit code of a kill:N fault
SAVE_STEPS = 17
FIRST_SAVE = range(4, 4 + SAVE_STEPS)  # steps 4 .. 20
SECOND_SAVE = range(21, 21 + SAVE_STEPS)  # steps 21 .. 37
NO_PLOT = (  # loss.png is not what these tests are about: skip matplotlib, run faster
    "import sys; sys.modules['matplotlib'] = None; "
    "from gradstack.cli.main import main; sys.exit(main(sys.argv[1:]))"
)


def command(*args: str, cwd: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    """Run ``gradstack ARGS`` (without matplotlib) with an optional injected fault."""
    env = {key: value for key, value in os.environ.items() if key != FAULT}
    if fault is not None:
        env[FAULT] = fault
    return subprocess.run(
        [sys.executable, "-c", NO_PLOT, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, text_file: Path, cli: Any) -> dict:
    """The training arguments and an uninterrupted run of them to compare with."""
    work = tmp_path_factory.mktemp("faults")
    args = ["train", "--data", str(text_file), *cli.TINY, "--steps", "20",
            "--sample-tokens", "0"]  # fmt: skip
    whole = command(*args, "--out", "whole", cwd=work)
    assert whole.returncode == 0, whole.stderr
    return {"work": work, "args": args, "whole": work / "whole"}


def same_state(cli: Any, run: Path, whole: Path) -> None:
    """Weights, optimizer state and logged steps of ``run`` equal those of ``whole``."""
    for name in ("model.npz", "optimizer.npz"):
        a, b = cli.npz(cli.current(run) / name), cli.npz(cli.current(whole) / name)
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}:{key}")

    def losses(folder: Path) -> list[tuple]:
        rows = cli.metrics(folder)  # strict JSON
        return [(row["step"], row["train_loss"], row.get("val_loss"), row["lr"]) for row in rows]

    assert losses(run) == losses(whole)
    assert [row[0] for row in losses(run)] == [5, 10, 15, 20]
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")], "leftovers"


def kill_and_recover(cli: Any, setup: dict, at: int) -> str:
    """Kill a run at durable step ``at``, then generate from and resume the folder.

    Returns which checkpoint the killed folder held: "step 10", "step 20" or "none".
    """
    work, run = setup["work"], f"killed{at}"
    killed = command(*setup["args"], "--out", run, cwd=work, fault=f"kill:{at}")
    assert killed.returncode == KILLED, (at, killed.stderr)
    folder = work / run
    if not (folder / "CURRENT").exists() and not list(folder.glob("gen-*")):
        # died in the first save: nothing to resume; the folder counts as empty
        resumed = command("train", "--resume", run, cwd=work)
        assert resumed.returncode == 2 and "holds no checkpoint" in resumed.stderr, at
        assert f"--out {run}" in resumed.stderr
        again = command(*setup["args"], "--out", run, cwd=work)
        assert again.returncode == 0, (at, again.stderr)
        same_state(cli, folder, setup["whole"])
        return "none"
    held = cli.config(folder)["step"] if (folder / "CURRENT").exists() else 10
    generated = command("generate", "--checkpoint", run, "--max-new-tokens", "8", cwd=work)
    assert generated.returncode == 0, (at, generated.stderr)
    assert len(generated.stdout) == len("\n") + 8 + 1, generated.stdout  # prompt "\n"
    if held == 20:  # the new checkpoint was published: nothing left to resume
        same_state(cli, folder, setup["whole"])
        return "step 20"
    resumed = command("train", "--resume", run, cwd=work)
    assert resumed.returncode == 0, (at, resumed.stderr)
    assert "resuming at step 10" in resumed.stdout
    same_state(cli, folder, setup["whole"])
    return "step 10"


@pytest.mark.slow
def test_a_run_killed_at_every_step_of_a_save_resumes_bit_identical(cli: Any, setup: dict) -> None:
    points = [*SECOND_SAVE, FIRST_SAVE[0], 16, 17, 19, 20]
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = dict(zip(points, pool.map(lambda at: kill_and_recover(cli, setup, at), points)))
    # the second save commits when CURRENT is replaced (its 16th step, 36): before it the
    # first checkpoint is current, after it the second
    assert [outcomes[at] for at in SECOND_SAVE] == ["step 10"] * 16 + ["step 20"]
    # in the first save, once its folder is renamed (step 16) it is complete and loads
    assert [outcomes[at] for at in (4, 16, 17, 19, 20)] == ["none"] * 2 + ["step 10"] * 3
    # one step past the last one, the run is not interrupted at all
    finished = command(*setup["args"], "--out", "past", cwd=setup["work"], fault="kill:38")
    assert finished.returncode == 0, finished.stderr


def last_line(result: subprocess.CompletedProcess) -> str:
    """The error line; the lines before it are the progress bar's."""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("error:") == 1, result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("fault", "words"), [("enospc:25", "No space left on device"), ("eio:35", "Input/output")]
)
def test_a_failing_disk_is_one_line_and_keeps_the_previous_checkpoint(
    cli: Any, setup: dict, fault: str, words: str
) -> None:
    work, run = setup["work"], fault.replace(":", "")
    failed = command(*setup["args"], "--out", run, cwd=work, fault=fault)
    assert failed.returncode == 2, failed.stderr
    line = last_line(failed)
    assert line.startswith("gradstack train: error: ") and words in line, line
    assert cli.config(work / run)["step"] == 10
    generated = command("generate", "--checkpoint", run, "--max-new-tokens", "4", cwd=work)
    assert generated.returncode == 0, generated.stderr
    resumed = command("train", "--resume", run, cwd=work)
    assert resumed.returncode == 0, resumed.stderr
    same_state(cli, work / run, setup["whole"])


def test_two_runs_on_one_folder(cli: Any, tmp_path: Path, text_file: Path) -> None:
    args = ["train", "--data", str(text_file), *cli.TINY, "--steps", "100000",
            "--eval-every", "100000", "--out", "run"]  # fmt: skip
    first = subprocess.Popen(
        [sys.executable, "-m", "gradstack.cli", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        metrics = tmp_path / "run" / "metrics.jsonl"
        while not (metrics.exists() and metrics.read_text().strip()):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run logged nothing"
            time.sleep(0.05)
        for second in (args, ["train", "--resume", "run"]):
            result = cli.run(*second, cwd=tmp_path)
            words = ("another `gradstack train`", f"pid {first.pid}", "running in this folder")
            cli.assert_error(result, "train", *words)
        assert first.poll() is None, "the first run must go on"
        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=120)
        assert first.returncode == 130, stderr
    finally:
        if first.poll() is None:
            first.kill()
    step = cli.config(tmp_path / "run")["step"]
    resumed = cli.run("train", "--resume", "run", "--steps", str(step + 5), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr  # the lock went with the first process
    assert cli.config(tmp_path / "run")["step"] == step + 5
