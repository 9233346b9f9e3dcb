"""Checkpoint directories: atomic saving, and loading that names whatever is wrong.

A checkpoint is a directory holding

- ``config.json``: ``format``/``format_version``/``config`` (the GPT's architecture, the
  same header ``GPT.save`` writes, so ``GPT.load(dir)`` reads a run too), plus ``step``,
  ``elapsed``, ``training`` (the run's settings), ``tokenizer`` (its kind), ``data``
  (source and SHA-256 of the text), ``rng`` (the generator's state) and ``files`` (the
  SHA-256 of each file below, so a mix of files from two saves is detected);
- ``model.npz`` (the state dict), ``optimizer.npz`` (optimizer state + ``schedule_json``),
  ``tokenizer.json``, ``metrics.jsonl``.

Every file is written to a temporary name and renamed into place, ``config.json`` last.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gradstack.layers import Module
from gradstack.optim import arrays_to_state, state_to_arrays
from gradstack.tokenization import load_tokenizer
from gradstack.transformer import GPT, GPTConfig
from gradstack.transformer.checkpoint import FORMAT, FORMAT_VERSION

from .errors import UsageError
from .files import write_atomic

CONFIG_FILE = "config.json"
MODEL_FILE = "model.npz"
OPTIMIZER_FILE = "optimizer.npz"
TOKENIZER_FILE = "tokenizer.json"
METRICS_FILE = "metrics.jsonl"
SCHEDULE_KEY = "schedule_json"
REQUIRED_FOR_RESUME = (MODEL_FILE, OPTIMIZER_FILE, TOKENIZER_FILE)
RUN_KEYS = ("step", "elapsed", "training", "tokenizer", "data", "rng", "files")


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """The bytes of an uncompressed ``.npz`` archive of ``arrays``."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def holds_checkpoint(directory: Path) -> bool:
    """Whether ``directory`` already holds (part of) a checkpoint."""
    names = (CONFIG_FILE, MODEL_FILE, OPTIMIZER_FILE, TOKENIZER_FILE)
    return any((directory / name).exists() for name in names)


@dataclass
class RunState:
    """What a save records besides the weights: where the run is and how it was set up."""

    step: int
    elapsed: float
    training: dict[str, Any]
    tokenizer_kind: str
    data: dict[str, Any]
    rng: dict[str, Any]


def save_checkpoint(
    directory: Path,
    model: GPT,
    optimizer_state: dict[str, Any],
    schedule_state: dict[str, Any],
    state: RunState,
    metrics: bytes,
) -> None:
    """Write every file of a checkpoint atomically, ``config.json`` (with hashes) last.

    ``tokenizer.json`` must already be in ``directory`` (it is written once, at the start).
    """
    model_bytes = npz_bytes(model.state_dict())
    arrays = state_to_arrays(optimizer_state)
    arrays[SCHEDULE_KEY] = np.asarray(json.dumps(schedule_state))
    optimizer_bytes = npz_bytes(arrays)
    files = {
        MODEL_FILE: sha256(model_bytes),
        OPTIMIZER_FILE: sha256(optimizer_bytes),
        TOKENIZER_FILE: sha256((directory / TOKENIZER_FILE).read_bytes()),
    }
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "step": state.step,
        "elapsed": state.elapsed,
        "training": state.training,
        "tokenizer": state.tokenizer_kind,
        "data": state.data,
        "rng": state.rng,
        "files": files,
    }
    write_atomic(directory / MODEL_FILE, model_bytes)
    write_atomic(directory / OPTIMIZER_FILE, optimizer_bytes)
    write_atomic(directory / METRICS_FILE, metrics)
    write_atomic(directory / CONFIG_FILE, (json.dumps(config, indent=2) + "\n").encode())


@dataclass
class Checkpoint:
    """A checkpoint directory whose ``config.json`` has been read and checked."""

    directory: Path
    label: str  # how the user named it, for messages ("--resume runs/x")
    meta: dict[str, Any]
    model_config: GPTConfig

    @property
    def step(self) -> int:
        """Training steps done."""
        return int(self.meta["step"])

    def fail(self, message: str) -> UsageError:
        """An error naming this checkpoint."""
        return UsageError(f"{self.label}: {message}")

    def require(self, *names: str) -> None:
        """Each named file must exist."""
        missing = [name for name in names if not (self.directory / name).is_file()]
        if missing:
            raise self.fail(f"incomplete checkpoint: missing {', '.join(missing)}")

    def verify(self, name: str, data: bytes) -> None:
        """``data`` (a file's bytes) must be the file this config.json was saved with."""
        if self.meta["files"].get(name) != sha256(data):
            raise self.fail(
                f"{name} is not the file config.json was saved with (copied from another "
                "run, or a save was interrupted)"
            )

    def read(self, name: str) -> bytes:
        """The bytes of one of the checkpoint's files, checked against its hash."""
        self.require(name)
        data = (self.directory / name).read_bytes()
        self.verify(name, data)
        return data


def open_checkpoint(path: str, label: str) -> Checkpoint:
    """Read and check ``path/config.json``; a missing or foreign directory is a UsageError."""
    directory = Path(path)
    if not directory.is_dir():
        raise UsageError(f"{label}: no such checkpoint directory")
    if not (directory / CONFIG_FILE).is_file():
        raise UsageError(f"{label}: incomplete checkpoint: missing {CONFIG_FILE}")
    try:
        meta = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{label}: {CONFIG_FILE} is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise UsageError(f"{label}: {CONFIG_FILE} is not a gradstack checkpoint")
    if meta.get("format_version") != FORMAT_VERSION:
        raise UsageError(
            f"{label}: {CONFIG_FILE} has format_version {meta.get('format_version')!r}, "
            f"this gradstack reads {FORMAT_VERSION}"
        )
    missing = [key for key in RUN_KEYS if key not in meta]
    if missing:
        raise UsageError(
            f"{label}: {CONFIG_FILE} was not written by `gradstack train` (no {', '.join(missing)})"
        )
    try:
        model_config = GPTConfig.from_dict(meta["config"], source=CONFIG_FILE)
    except ValueError as error:
        raise UsageError(f"{label}: {error}") from None
    if not isinstance(meta["files"], dict) or not isinstance(meta["step"], int):
        raise UsageError(f"{label}: {CONFIG_FILE} is damaged (step or files)")
    return Checkpoint(directory, label, meta, model_config)


def _parse_npz(ckpt: Checkpoint, name: str, data: bytes) -> dict[str, np.ndarray]:
    """All arrays of the ``.npz`` bytes of one file of the checkpoint, without unpickling."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError) as error:
        raise ckpt.fail(f"{name} is not a readable .npz archive ({error})") from None
    return arrays


def load_model(ckpt: Checkpoint) -> GPT:
    """The GPT of the checkpoint, its weights loaded and checked."""
    model = GPT.from_config(ckpt.model_config)
    load_weights(ckpt, model)
    return model


def load_weights(ckpt: Checkpoint, model: Module) -> None:
    """Copy ``model.npz`` into ``model``; another model's weights are a UsageError."""
    ckpt.require(MODEL_FILE)
    data = (ckpt.directory / MODEL_FILE).read_bytes()
    state = _parse_npz(ckpt, MODEL_FILE, data)
    try:
        model.load_state_dict(state)
    except (TypeError, ValueError) as error:
        raise ckpt.fail(f"{MODEL_FILE} does not fit the model in {CONFIG_FILE}: {error}") from None
    ckpt.verify(MODEL_FILE, data)


def load_checkpoint_tokenizer(ckpt: Checkpoint) -> Any:
    """The tokenizer, checked against the hash and against the model's vocabulary size."""
    ckpt.read(TOKENIZER_FILE)
    try:
        tokenizer = load_tokenizer(ckpt.directory / TOKENIZER_FILE)
    except ValueError as error:
        raise ckpt.fail(str(error)) from None
    if tokenizer.vocab_size != ckpt.model_config.vocab_size:
        raise ckpt.fail(
            f"{TOKENIZER_FILE} has {tokenizer.vocab_size} tokens but the model's vocab_size is "
            f"{ckpt.model_config.vocab_size}"
        )
    return tokenizer


def load_optimizer_state(ckpt: Checkpoint) -> tuple[dict[str, Any], dict[str, Any]]:
    """(optimizer state dict, schedule state dict) from ``optimizer.npz``."""
    arrays = _parse_npz(ckpt, OPTIMIZER_FILE, ckpt.read(OPTIMIZER_FILE))
    if SCHEDULE_KEY not in arrays:
        raise ckpt.fail(f"{OPTIMIZER_FILE} holds no learning-rate schedule state")
    try:
        schedule = json.loads(str(arrays.pop(SCHEDULE_KEY)))
        return arrays_to_state(arrays), schedule
    except (ValueError, TypeError) as error:
        raise ckpt.fail(f"{OPTIMIZER_FILE} is damaged ({error})") from None


def read_metrics(ckpt: Checkpoint) -> list[dict[str, Any]]:
    """Logged metrics up to the checkpoint's step (lines after it are from a lost run)."""
    path = ckpt.directory / METRICS_FILE
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash
        if isinstance(row, dict) and isinstance(row.get("step"), int) and row["step"] <= ckpt.step:
            rows.append(row)
    return rows
