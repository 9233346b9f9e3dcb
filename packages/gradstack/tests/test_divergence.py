"""Divergence stops cleanly: exit 3, one line, the last good checkpoint finite and kept."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

EXIT_DIVERGED = 3


def strict_rows(path: Path) -> list[dict]:
    """Every line of a metrics file, read by a JSON reader that refuses NaN and Infinity."""

    def refuse(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    return [json.loads(line, parse_constant=refuse) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("clip", ["0", "1"])
def test_a_diverging_run_stops_and_keeps_its_last_good_checkpoint(
    cli: Any, tmp_path: Path, text_file: Path, clip: str
) -> None:
    args = ["train", "--data", str(text_file), *cli.TINY, "--lr", "1e3", "--grad-clip", clip,
            "--steps", "60", "--eval-every", "2", "--log-every", "2", "--sample-tokens", "0",
            "--out", "run"]  # fmt: skip
    result = cli.run(*args, cwd=tmp_path)
    assert result.returncode == EXIT_DIVERGED, result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    assert result.stderr.count("error:") == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("gradstack train: error: training diverged at step "), line
    assert "--lr (now 1000)" in line and "--grad-clip" in line
    diverged_at = int(line.split("at step ")[1].split(":")[0])
    saved = cli.config(tmp_path / "run")["step"]
    assert 2 <= saved < diverged_at, line
    assert f"checkpoint of step {saved}, which is kept" in line
    for name in ("model.npz", "optimizer.npz"):
        for key, array in cli.npz(cli.current(tmp_path / "run") / name).items():
            assert array.dtype.kind != "f" or np.isfinite(array).all(), (name, key)
    rows = strict_rows(tmp_path / "run" / "metrics.jsonl")
    assert rows and all(row["step"] < diverged_at for row in rows)
    for folder in (tmp_path / "run").glob("gen-*"):
        strict_rows(folder / "metrics.jsonl")
    help_text = cli.run("train", "--help", cwd=tmp_path).stdout
    assert "3 training diverged" in " ".join(help_text.split())


def test_metrics_lines_are_strict_json() -> None:
    from gradstack.cli.metrics import json_line

    line = json_line({"step": 3, "train_loss": math.nan, "val_loss": math.inf, "lr": 0.1})
    assert json.loads(line) == {"step": 3, "train_loss": None, "val_loss": None, "lr": 0.1}


def test_generate_refuses_non_finite_weights(cli: Any, tmp_path: Path, trained_run: Path) -> None:
    import hashlib
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    generation = cli.current(run)
    state = cli.npz(generation / "model.npz")
    state["lm_head.weight"][0, 0] = np.nan
    np.savez(generation / "model.npz", **state)
    config = json.loads((generation / "config.json").read_text())
    config["files"]["model.npz"] = hashlib.sha256(
        (generation / "model.npz").read_bytes()
    ).hexdigest()
    (generation / "config.json").write_text(json.dumps(config))
    result = cli.run("generate", "--checkpoint", str(run), cwd=tmp_path)
    cli.assert_error(result, "generate", "non-finite weights", "lm_head.weight", "--lr")
    assert result.stdout == ""
