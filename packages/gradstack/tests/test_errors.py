"""Bad input: one line on stderr, exit code 2, no traceback, nothing half-written."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

MORE = ("--steps", "50")  # the trained run is finished: resuming needs more steps


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` with its bytes (but the lock file, which runs create)."""
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != "lock")
    return {str(p.relative_to(directory)): p.read_bytes() for p in files}


@pytest.fixture
def run_copy(tmp_path: Path, trained_run: Path) -> Path:
    """A private copy of the trained run, free to damage."""
    target = tmp_path / "copy"
    shutil.copytree(trained_run, target)
    return target


def train_fails(cli: Any, cwd: Path, *args: str, words: tuple[str, ...]) -> None:
    """``gradstack train ARGS --out new`` fails with one line, and writes nothing."""
    result = cli.run("train", *args, "--out", "new", cwd=cwd)
    cli.assert_error(result, "train", *words)
    assert not (cwd / "new").exists()


def test_missing_data_file(cli: Any, tmp_path: Path) -> None:
    train_fails(cli, tmp_path, "--data", "nope.txt", words=("nope.txt", "no such file"))


def test_data_is_a_directory(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    train_fails(cli, tmp_path, "--data", "folder", words=("folder", "directory"))


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads anything")
def test_unreadable_data_file(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("some text " * 100)
    path.chmod(0)
    train_fails(cli, tmp_path, "--data", "secret.txt", words=("secret.txt", "cannot read"))


def test_empty_data_file(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    train_fails(cli, tmp_path, "--data", "empty.txt", words=("empty.txt", "empty"))


def test_binary_data_file(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"abc\xff\xfe" * 50)
    train_fails(cli, tmp_path, "--data", "blob.bin", words=("not UTF-8", "offset 3"))


def test_data_shorter_than_the_context(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "short.txt").write_text("x" * 300)  # held-out part: 30 chars < 65
    train_fails(cli, tmp_path, "--data", "short.txt", words=("too short", "--context 64"))


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--steps", "-5"], ("--steps", "must be a positive integer, got -5")),
        (["--steps", "many"], ("--steps", "expected an integer")),
        (["--lr", "0"], ("--lr", "must be > 0")),
        (["--lr", "nan"], ("--lr", "finite")),
        (["--dropout", "1.5"], ("--dropout", "[0, 1)")),
        (["--heads", "3"], ("--heads 3 does not divide --embed-dim 128",)),
        (["--tokenizer", "bpe", "--vocab-size", "100"], ("--vocab-size 100", "256")),
        (["--tokenizer", "word"], ("--tokenizer", "invalid choice")),
        (["--vocab-size", "300"], ("--vocab-size", "bpe only")),
        (["--warmup", "50", "--steps", "10"], ("--warmup 50", "--steps 10")),
        (["--stop-at", "20", "--steps", "10"], ("--stop-at 20",)),
        (["--min-lr", "1", "--lr", "0.1"], ("--min-lr",)),
        (["--bogus"], ("unrecognized arguments: --bogus",)),
    ],
)
def test_invalid_flag_values(cli: Any, tmp_path: Path, args: list[str], words: tuple) -> None:
    train_fails(cli, tmp_path, *args, words=words)


def test_out_directory_holding_a_checkpoint(cli: Any, tmp_path: Path, run_copy: Path) -> None:
    before = snapshot(run_copy)
    result = cli.run("train", "--out", str(run_copy), cwd=tmp_path)
    cli.assert_error(result, "train", "already holds a checkpoint", "--resume")
    assert snapshot(run_copy) == before


def resume_fails(cli: Any, cwd: Path, run: Path, *words: str, args: tuple = ()) -> None:
    """``train --resume run`` fails with one line and changes no file of the run."""
    before = snapshot(run)
    result = cli.run("train", "--resume", str(run), *args, cwd=cwd)
    cli.assert_error(result, "train", *words)
    assert snapshot(run) == before


def current(run: Path) -> Path:
    """The folder of the run's current checkpoint."""
    return run / (run / "CURRENT").read_text().strip()


def test_resume_missing_directory(cli: Any, tmp_path: Path) -> None:
    result = cli.run("train", "--resume", "nowhere", cwd=tmp_path)
    cli.assert_error(result, "train", "--resume nowhere", "no such checkpoint directory")


@pytest.mark.parametrize("name", ["config.json", "model.npz", "optimizer.npz", "tokenizer.json"])
def test_resume_with_a_missing_file(cli: Any, tmp_path: Path, run_copy: Path, name: str) -> None:
    (current(run_copy) / name).unlink()
    resume_fails(cli, tmp_path, run_copy, "incomplete checkpoint", f"missing {name}")


def test_resume_with_another_models_weights(cli: Any, tmp_path: Path, run_copy: Path) -> None:
    weights = current(run_copy) / "model.npz"
    state = cli.npz(weights)
    state["lm_head.weight"] = np.zeros((3, 3), dtype=np.float32)
    np.savez(weights, **state)
    config = json.loads((current(run_copy) / "config.json").read_text())
    config["files"]["model.npz"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    (current(run_copy) / "config.json").write_text(json.dumps(config))
    resume_fails(cli, tmp_path, run_copy, "model.npz does not fit", "shape", args=MORE)


def test_resume_with_weights_of_another_save(cli: Any, tmp_path: Path, run_copy: Path) -> None:
    weights = current(run_copy) / "model.npz"
    state = cli.npz(weights)
    state["lm_head.weight"] = state["lm_head.weight"] + 1.0
    np.savez(weights, **state)
    words = ("model.npz is not the file config.json was saved with",)
    resume_fails(cli, tmp_path, run_copy, *words, args=MORE)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", ("config.json is not valid JSON",)),
        ('{"hello": 1}', ("not a gradstack checkpoint",)),
        ('["a", "list"]', ("not a gradstack checkpoint",)),
    ],
)
def test_resume_with_foreign_config(
    cli: Any, tmp_path: Path, run_copy: Path, content: str, words: tuple
) -> None:
    (current(run_copy) / "config.json").write_text(content)
    resume_fails(cli, tmp_path, run_copy, *words)


def test_resume_with_a_gpt_only_config(cli: Any, tmp_path: Path, run_copy: Path) -> None:
    config = json.loads((current(run_copy) / "config.json").read_text())
    del config["training"], config["rng"]
    (current(run_copy) / "config.json").write_text(json.dumps(config))
    resume_fails(cli, tmp_path, run_copy, "not written by `gradstack train`")


def test_resume_with_damaged_optimizer(cli: Any, tmp_path: Path, run_copy: Path) -> None:
    (current(run_copy) / "optimizer.npz").write_bytes(b"PK\x03\x04 not really a zip")
    resume_fails(cli, tmp_path, run_copy, "optimizer.npz", args=MORE)


def test_resume_cannot_change_the_model(cli: Any, tmp_path: Path, run_copy: Path) -> None:
    resume_fails(cli, tmp_path, run_copy, "--layers 2", "may change", args=("--layers", "2"))


def test_resume_of_a_finished_run(cli: Any, tmp_path: Path, run_copy: Path) -> None:
    resume_fails(cli, tmp_path, run_copy, "already trained 40 of --steps 40")


def test_resume_after_the_data_changed(cli: Any, tmp_path: Path, run_copy: Path) -> None:
    config = json.loads((current(run_copy) / "config.json").read_text())
    data = Path(config["training"]["data"])
    moved = tmp_path / "changed.txt"
    moved.write_text(data.read_text() + "more")
    config["training"]["data"] = str(moved)
    (current(run_copy) / "config.json").write_text(json.dumps(config))
    resume_fails(cli, tmp_path, run_copy, "changed since the run began", args=("--steps", "50"))


def test_generate_with_missing_checkpoint(cli: Any, tmp_path: Path) -> None:
    result = cli.run("generate", "--checkpoint", "nowhere", cwd=tmp_path)
    cli.assert_error(result, "generate", "--checkpoint nowhere", "no such checkpoint directory")


def test_generate_with_foreign_tokenizer(cli: Any, tmp_path: Path, run_copy: Path) -> None:
    (current(run_copy) / "tokenizer.json").write_text('{"format": "something else"}')
    result = cli.run("generate", "--checkpoint", str(run_copy), cwd=tmp_path)
    cli.assert_error(result, "generate", "tokenizer.json")


def test_generate_prompt_outside_the_vocabulary(
    cli: Any, tmp_path: Path, trained_run: Path
) -> None:
    args = ("generate", "--checkpoint", str(trained_run), "--prompt", "日本")
    cli.assert_error(cli.run(*args, cwd=tmp_path), "generate", "--prompt", "not in the vocabulary")


def test_generate_bad_flags(cli: Any, tmp_path: Path, trained_run: Path) -> None:
    base = ("generate", "--checkpoint", str(trained_run))
    cli.assert_error(cli.run(*base, "--temperature", "0", cwd=tmp_path), "generate", "> 0")
    cli.assert_error(cli.run(*base, "--top-k", "100000", cwd=tmp_path), "generate", "--top-k")
    cli.assert_error(cli.run(*base, "--prompt", "", cwd=tmp_path), "generate", "empty")
    cli.assert_error(cli.run("generate", cwd=tmp_path), "generate", "--checkpoint")


def test_bench_bad_flags(cli: Any, tmp_path: Path) -> None:
    result = cli.run("bench", "--heads", "3", cwd=tmp_path)
    cli.assert_error(result, "bench", "--heads 3 does not divide --embed-dim 128")
