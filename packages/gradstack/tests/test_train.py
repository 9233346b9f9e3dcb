"""``gradstack train`` end to end on a tiny model: files, learning, exact resume, Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FORMAT = "gradstack-gpt"

CHECKPOINT_FILES = ("config.json", "model.npz", "optimizer.npz", "tokenizer.json", "metrics.jsonl")


def test_train_writes_a_complete_checkpoint(cli: Any, trained_run: Path) -> None:
    # evaluations at steps 10, 20, 30, 40: four generations, the last two kept
    names = sorted(p.name for p in trained_run.iterdir())
    assert names == ["CURRENT", "gen-000003", "gen-000004", "lock", "loss.png", "metrics.jsonl"]
    assert (trained_run / "CURRENT").read_text() == "gen-000004\n"
    generation = cli.current(trained_run)
    assert sorted(p.name for p in generation.iterdir()) == sorted(CHECKPOINT_FILES)
    assert (generation / "metrics.jsonl").read_text() == (trained_run / "metrics.jsonl").read_text()
    config = cli.config(trained_run)
    assert config["format"] == FORMAT
    assert config["step"] == 40
    assert config["tokenizer"] == "char"
    assert config["config"]["num_layers"] == 1 and config["config"]["max_seq_len"] == 16
    assert config["training"]["steps"] == 40 and config["training"]["lr"] == 1e-2
    assert config["rng"]["bit_generator"] == "PCG64"
    assert json.loads((trained_run / "gen-000003" / "config.json").read_text())["step"] == 30
    assert not list(trained_run.glob(".*")), "temporary files left behind"


def test_train_loss_falls_and_metrics_are_logged(cli: Any, trained_run: Path) -> None:
    rows = cli.metrics(trained_run)
    assert [row["step"] for row in rows] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert rows[-1]["train_loss"] < rows[0]["train_loss"] - 0.5
    evaluated = [row for row in rows if "val_loss" in row]
    assert [row["step"] for row in evaluated] == [10, 20, 30, 40]
    assert evaluated[-1]["val_loss"] < evaluated[0]["val_loss"]
    for row in rows:
        assert row["tokens_per_s"] > 0 and row["elapsed"] > 0 and row["lr"] > 0


def test_model_npz_holds_the_gpt_state(cli: Any, trained_run: Path) -> None:
    from gradstack.transformer import GPT

    state = cli.npz(cli.current(trained_run) / "model.npz")
    assert state["token_embedding.weight"].dtype == np.float32
    assert state["lm_head.weight"].shape[1] == 16
    # the config.json header is GPT.save's, so GPT.load reads a training run too
    model = GPT.load(trained_run)
    np.testing.assert_array_equal(model.lm_head.weight.data, state["lm_head.weight"])


def test_default_corpus_split_and_summary_line(cli: Any, tmp_path: Path) -> None:
    result = cli.run("train", *cli.TINY, "--steps", "10", "--out", "d", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pydoc_data.topics" in result.stdout
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("gradstack train: done: 10 steps")
    assert "unigram baseline" in summary and "held-out loss" in summary


@pytest.mark.parametrize(
    "speed", [["--dropout", "0.1"], ["--shards", "2"], ["--dropout", "0.1", "--shards", "2"]]
)
def test_resume_matches_an_uninterrupted_run(
    cli: Any, tmp_path: Path, text_file: Path, speed: list[str]
) -> None:
    common = ["--data", str(text_file), *cli.TINY, *speed, "--steps", "30"]
    whole = cli.run("train", *common, "--out", "whole", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    first = cli.run("train", *common, "--stop-at", "17", "--out", "parts", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert cli.config(tmp_path / "parts")["step"] == 17
    second = cli.run("train", "--resume", "parts", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "resuming at step 17" in second.stdout
    for name in ("model.npz", "optimizer.npz"):
        a = cli.npz(cli.current(tmp_path / "whole") / name)
        b = cli.npz(cli.current(tmp_path / "parts") / name)
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}:{key}")
    steps = [row["step"] for row in cli.metrics(tmp_path / "parts")]
    assert steps == [row["step"] for row in cli.metrics(tmp_path / "whole")]


def test_resume_with_more_steps_from_another_directory(
    cli: Any, tmp_path: Path, text_file: Path
) -> None:
    (tmp_path / "docs.txt").write_bytes(text_file.read_bytes())
    args = ["--data", "docs.txt", *cli.TINY, "--steps", "10", "--out", "run"]
    assert cli.run("train", *args, cwd=tmp_path).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    more = cli.run("train", "--resume", str(tmp_path / "run"), "--steps", "20", cwd=elsewhere)
    assert more.returncode == 0, more.stderr
    assert cli.config(tmp_path / "run")["step"] == 20
    assert [row["step"] for row in cli.metrics(tmp_path / "run")] == [5, 10, 15, 20]


def test_ctrl_c_saves_a_checkpoint_that_resumes_exactly(
    cli: Any, tmp_path: Path, text_file: Path
) -> None:
    common = ["--data", str(text_file), *cli.TINY, "--steps", "400", "--eval-every", "1000"]
    process = subprocess.Popen(
        [sys.executable, "-m", "gradstack.cli", "train", *common, "--out", "run"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    metrics = tmp_path / "run" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (metrics.exists() and metrics.read_text().strip()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no step was logged"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted at step" in stdout and "--resume" in stdout
    assert "Traceback" not in stderr
    step = cli.config(tmp_path / "run")["step"]
    assert 5 <= step < 400
    assert all(row["step"] <= step for row in cli.metrics(tmp_path / "run"))

    resumed = cli.run("train", "--resume", "run", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    whole = cli.run("train", *common, "--out", "whole", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    a = cli.npz(cli.current(tmp_path / "run") / "model.npz")
    b = cli.npz(cli.current(tmp_path / "whole") / "model.npz")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_bpe_tokenizer_run(cli: Any, tmp_path: Path, text_file: Path) -> None:
    args = ["--data", str(text_file), *cli.TINY, "--steps", "10", "--tokenizer", "bpe"]
    result = cli.run("train", *args, "--vocab-size", "300", "--out", "bpe", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = cli.config(tmp_path / "bpe")
    assert config["tokenizer"] == "bpe" and config["config"]["vocab_size"] == 300
    tokenizer = cli.current(tmp_path / "bpe") / "tokenizer.json"
    assert json.loads(tokenizer.read_text())["type"] == "bpe"


def test_loss_png_is_skipped_silently_without_matplotlib(
    cli: Any, tmp_path: Path, text_file: Path
) -> None:
    blocked = (
        "import sys; sys.modules['matplotlib'] = None; "  # makes `import matplotlib` fail
        "from gradstack.cli.main import main; sys.exit(main(sys.argv[1:]))"
    )
    args = ["train", "--data", str(text_file), *cli.TINY, "--steps", "10", "--out", "run"]
    result = subprocess.run(
        [sys.executable, "-c", blocked, *args], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "run" / "loss.png").exists()
    assert "pip install matplotlib" in result.stdout


def test_loss_png_with_matplotlib(trained_run: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        import pytest

        pytest.skip("matplotlib is not installed")
    assert (trained_run / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
