"""``gradstack generate``: streams exactly the requested tokens after the prompt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any


def test_char_model_prints_exactly_n_new_characters(cli: Any, trained_run: Path) -> None:
    args = ("generate", "--checkpoint", str(trained_run), "--prompt", "The ",
            "--max-new-tokens", "57", "--seed", "3")  # fmt: skip
    result = cli.run(*args, cwd=trained_run.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("The ")
    assert result.stdout.endswith("\n")
    assert len(result.stdout) == len("The ") + 57 + 1
    again = cli.run(*args, cwd=trained_run.parent)
    assert again.stdout == result.stdout  # --seed makes the sample reproducible


def test_zero_new_tokens_prints_the_prompt(cli: Any, trained_run: Path) -> None:
    args = (
        "generate",
        "--checkpoint",
        str(trained_run),
        "--prompt",
        "abc",
        "--max-new-tokens",
        "0",
    )
    result = cli.run(*args, cwd=trained_run.parent)
    assert result.returncode == 0 and result.stdout == "abc\n"


def test_longer_than_the_context_and_top_k(cli: Any, trained_run: Path) -> None:
    args = ("generate", "--checkpoint", str(trained_run), "--max-new-tokens", "100",
            "--top-k", "1", "--seed", "0", "--prompt", "x" * 40)  # fmt: skip
    result = cli.run(*args, cwd=trained_run.parent)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) == 40 + 100 + 1


def test_output_streams_before_the_end(trained_run: Path) -> None:
    """The first characters arrive while the model is still generating."""
    command = [sys.executable, "-u", "-m", "gradstack.cli", "generate", "--checkpoint",
               str(trained_run), "--prompt", "P", "--max-new-tokens", "3000"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    first = process.stdout.read(5)  # returns as soon as 5 bytes were flushed
    still_running = process.poll() is None
    process.kill()
    process.communicate()
    assert first.startswith(b"P") and still_running


def test_bpe_model_streams_valid_text(cli: Any, tmp_path: Path, text_file: Path) -> None:
    args = ["--data", str(text_file), *cli.TINY, "--steps", "5", "--tokenizer", "bpe"]
    trained = cli.run("train", *args, "--vocab-size", "280", "--out", "bpe", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    for seed in range(3):
        result = cli.run("generate", "--checkpoint", "bpe", "--prompt", "déjà vu ",
                         "--max-new-tokens", "40", "--seed", str(seed), cwd=tmp_path)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("déjà vu ") and len(result.stdout) > len("déjà vu ")


def test_help_mentions_every_command(cli: Any, tmp_path: Path) -> None:
    result = cli.run("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("train", "generate", "check", "bench"):
        assert command in result.stdout
    train_help = cli.run("train", "--help", cwd=tmp_path).stdout
    flags = "data tokenizer vocab-size layers embed-dim heads context batch-size steps lr seed"
    flags += " eval-every out dropout weight-decay warmup resume"
    for flag in ["--" + name for name in flags.split()] + ["matplotlib"]:
        assert flag in train_help, flag
    assert "runs/" in train_help and "130" in train_help
