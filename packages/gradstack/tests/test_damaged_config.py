"""A hand-damaged config.json (the one file without a hash) or metrics.jsonl on resume:
one line, exit 2, nothing changed; config.json is checked field by field."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

MORE = ("--steps", "50")


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


def edit_config(cli: Any, run: Path, change: Callable[[dict], None]) -> None:
    """Apply ``change`` to the current checkpoint's config.json."""
    path = cli.current(run) / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def setter(*keys: str, value: Any) -> Callable[[dict], None]:
    """A change that sets config[k1][k2]... to ``value``."""

    def change(config: dict) -> None:
        target = config
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def remover(*keys: str) -> Callable[[dict], None]:
    """A change that deletes config[k1][k2]..."""

    def change(config: dict) -> None:
        target = config
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return change


CASES = [
    (setter("data", value=None), ("data is None", "expected an object")),
    (setter("training", "lr", value="abc"), ("training.lr is 'abc'", "finite number > 0")),
    (setter("training", "lr", value=-1), ("training.lr is -1",)),
    (setter("step", value=-5), ("step is -5", "positive int")),
    (setter("step", value=True), ("step is True", "positive int")),
    (setter("step", value=2.5), ("step is 2.5",)),
    (setter("elapsed", value="soon"), ("elapsed is 'soon'",)),
    (setter("training", "batch_size", value=True), ("training.batch_size is True",)),
    (setter("training", "steps", value=0), ("training.steps is 0",)),
    (setter("training", "dropout", value=1.5), ("training.dropout is 1.5", "[0, 1)")),
    (setter("training", "tokenizer", value="word"), ("training.tokenizer is 'word'",)),
    (setter("training", "heads", value=4), ("training.heads is 4", "num_heads is 2")),
    (setter("training", "warmup", value=10**6), ("--warmup 1000000",)),
    (setter("training", "extra", value=1), ("unknown ['extra']",)),
    (remover("training", "seed"), ("missing ['seed']",)),
    (setter("training", value=[1, 2]), ("training is list",)),
    (setter("tokenizer", value="bpe"), ("tokenizer is 'bpe'",)),
    (setter("data", "sha256", value=7), ("data.sha256 is 7",)),
    (setter("data", "chars", value=-1), ("data.chars is -1",)),
    (setter("rng", value="seeded"), ("rng is 'seeded'",)),
    (setter("rng", "state", value={"state": "x", "inc": 1}), ("generator state",)),
    (setter("files", value=[]), ("'files' is not a name: hash map",)),
    (setter("config", "max_seq_len", value=10**12), ("max_seq_len is 1000000000000",)),
    (setter("config", "num_heads", value=0), ("num_heads must be a positive int",)),
]


@pytest.mark.parametrize(("change", "words"), CASES, ids=[str(c[1][0]) for c in CASES])
def test_resume_with_a_damaged_config(
    cli: Any, tmp_path: Path, run_copy: Path, change: Callable, words: tuple
) -> None:
    edit_config(cli, run_copy, change)
    before = snapshot(run_copy)
    result = cli.run("train", "--resume", str(run_copy), *MORE, cwd=tmp_path)
    # settings checked across fields name the flags, not the file
    label = () if words[0].startswith("--") else (f"--resume {run_copy}",)
    cli.assert_error(result, "train", *label, *words)
    assert snapshot(run_copy) == before


@pytest.mark.parametrize(
    ("pointer", "words"),
    [("gen-000099\n", "CURRENT names gen-000099, which is missing"),
     ("../elsewhere\n", "CURRENT does not name a generation")],
)  # fmt: skip
def test_a_damaged_pointer(
    cli: Any, tmp_path: Path, run_copy: Path, pointer: str, words: str
) -> None:
    (run_copy / "CURRENT").write_text(pointer)
    before = snapshot(run_copy)
    result = cli.run("train", "--resume", str(run_copy), *MORE, cwd=tmp_path)
    cli.assert_error(result, "train", words)
    cli.assert_error(cli.run("generate", "--checkpoint", str(run_copy), cwd=tmp_path),
                     "generate", words)  # fmt: skip
    assert snapshot(run_copy) == before


def test_generate_with_a_model_too_large_for_memory(
    cli: Any, tmp_path: Path, run_copy: Path
) -> None:
    def huge(config: dict) -> None:
        config["config"]["max_seq_len"] = config["training"]["context"] = 10**12

    edit_config(cli, run_copy, huge)
    result = cli.run("generate", "--checkpoint", str(run_copy), cwd=tmp_path)
    cli.assert_error(result, "generate", "does not fit in memory", "max_seq_len=1000000000000")


def test_damaged_metrics_on_resume(cli: Any, tmp_path: Path, run_copy: Path) -> None:
    # the live log may be torn or damaged: a resume rewrites it from the checkpoint's copy
    live = run_copy / "metrics.jsonl"
    live.write_bytes(live.read_bytes() + b'{"step": 45, "train_lo\xff')
    resumed = cli.run("train", "--resume", str(run_copy), "--steps", "45", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert [row["step"] for row in cli.metrics(run_copy)] == [5, 10, 15, 20, 25, 30, 35, 40, 45]


def test_damaged_metrics_in_the_checkpoint(cli: Any, tmp_path: Path, run_copy: Path) -> None:
    saved = cli.current(run_copy) / "metrics.jsonl"
    saved.write_bytes(saved.read_bytes() + b"\xff\xfe")
    before = snapshot(run_copy)
    result = cli.run("train", "--resume", str(run_copy), *MORE, cwd=tmp_path)
    cli.assert_error(result, "train", "metrics.jsonl is not the file config.json was saved with")
    assert snapshot(run_copy) == before


def test_a_run_that_died_before_its_first_save(cli: Any, tmp_path: Path, text_file: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "metrics.jsonl").write_text('{"step": 5, "train_loss": 4.0}\n{"ste')
    (folder / ".gen-000001.tmp-999999").mkdir()
    (folder / ".gen-000001.tmp-999999" / "model.npz").write_bytes(b"half")
    result = cli.run("train", "--resume", "run", cwd=tmp_path)
    cli.assert_error(result, "train", "holds no checkpoint", "gradstack train --out run")
    fresh = cli.run("train", "--data", str(text_file), *cli.TINY, "--steps", "10", "--out", "run",
                    cwd=tmp_path)  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr
    assert [row["step"] for row in cli.metrics(folder)] == [5, 10]
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(("gen", "."))) == [
        "gen-000001"
    ]


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (MemoryError("Unable to allocate 116. TiB"), ("out of memory", "116. TiB", "--batch-size")),
        (OSError(30, "Read-only file system", "runs/x"), ("Read-only file system", "runs/x")),
        (OSError(5, "Input/output error"), ("Input/output error",)),
        (FloatingPointError("overflow in x"), ("numerical error: overflow in x",)),
    ],
)
def test_machine_failures_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, error: Exception, words: tuple
) -> None:
    import gradstack.cli.train
    from gradstack.cli.main import main

    def fail(args: Any) -> int:
        raise error

    monkeypatch.setattr(gradstack.cli.train, "run_train", fail)
    code = main(["train"])
    assert code == (3 if isinstance(error, FloatingPointError) else 2)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradstack train: error: "), lines
    for word in words:
        assert word in lines[0]
