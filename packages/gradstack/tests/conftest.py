"""Fixtures for running the real ``gradstack`` command in a subprocess on tiny sizes.

Tests are imported with ``--import-mode=importlib``, so they cannot import this file;
the helpers reach them as the ``cli`` fixture.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

#: A model small enough that a run of a few dozen steps takes a second or two.
TINY = [
    "--layers", "1", "--embed-dim", "16", "--heads", "2", "--context", "16",
    "--batch-size", "8", "--warmup", "5", "--eval-every", "10", "--log-every", "5",
    "--sample-tokens", "20", "--lr", "1e-2",
]  # fmt: skip


def gradstack(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m gradstack.cli ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "gradstack.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def corpus_text(chars: int) -> str:
    """The first ``chars`` characters of the built-in corpus."""
    from gradstack.cli.data import default_corpus

    return default_corpus()[:chars]


@pytest.fixture(scope="session")
def text_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30 KB English text file to train on."""
    path = tmp_path_factory.mktemp("data") / "docs.txt"
    path.write_text(corpus_text(30_000), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory, text_file: Path) -> Path:
    """A finished tiny character-level run (40 steps), shared by read-only tests."""
    work = tmp_path_factory.mktemp("trained")
    result = gradstack("train", "--data", str(text_file), *TINY, "--steps", "40",
                       "--out", "run", cwd=work)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return work / "run"


def current(run: Path) -> Path:
    """The folder of the run's current checkpoint (the generation CURRENT names)."""
    return run / (run / "CURRENT").read_text().strip()


def read_config(run: Path) -> dict:
    """The current checkpoint's config.json."""
    return json.loads((current(run) / "config.json").read_text())


def read_metrics(run: Path) -> list[dict]:
    """Rows of the live ``metrics.jsonl``, parsed as strict JSON (no NaN, no Infinity)."""
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line, parse_constant=_refuse_constant) for line in lines]


def _refuse_constant(name: str) -> None:
    raise ValueError(f"not strict JSON: {name}")


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file."""
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], command: str, *words: str
) -> None:
    """Exit code 2, one ``gradstack <command>: error: ...`` line naming ``words``, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"gradstack {command}: error: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in result.stderr


class CLI:
    """The helpers above, handed to tests by the ``cli`` fixture."""

    TINY = TINY
    root = Path(__file__).resolve().parents[3]
    run = staticmethod(gradstack)
    metrics = staticmethod(read_metrics)
    npz = staticmethod(read_npz)
    assert_error = staticmethod(assert_one_line_error)
    current = staticmethod(current)
    config = staticmethod(read_config)


@pytest.fixture(scope="session")
def cli() -> type[CLI]:
    """Run the command and read what it wrote."""
    return CLI
