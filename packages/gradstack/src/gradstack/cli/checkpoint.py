"""A training run's checkpoint, through the one writer and reader of ``gradstack.transformer``.

Each save publishes a generation (see ``gradstack.transformer`` and the README) holding

- ``config.json``: the GPT header (``format``, ``format_version``, ``config``: what
  ``GPT.save`` writes, so ``GPT.load(run_dir)`` reads a run too), ``files`` (the SHA-256
  of each file below) and what a resume needs: ``step``, ``elapsed``, ``training`` (the
  run's settings), ``tokenizer`` (its kind), ``data`` (source and SHA-256 of the text) and
  ``rng`` (the generator's state);
- ``model.npz`` (the state dict), ``optimizer.npz`` (optimizer state + ``schedule_json``),
  ``tokenizer.json``, ``metrics.jsonl`` (the rows logged up to this step).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gradstack.optim import arrays_to_state, state_to_arrays
from gradstack.tokenization import load_tokenizer
from gradstack.transformer import (
    GPT,
    Checkpoint,
    CheckpointError,
    holds_checkpoint,
    npz_bytes,
    open_checkpoint,
    save_checkpoint,
)

from .errors import UsageError
from .run_config import check_run_meta

MODEL_FILE = "model.npz"
OPTIMIZER_FILE = "optimizer.npz"
TOKENIZER_FILE = "tokenizer.json"
METRICS_FILE = "metrics.jsonl"
SCHEDULE_KEY = "schedule_json"
REQUIRED_FOR_RESUME = (MODEL_FILE, OPTIMIZER_FILE, TOKENIZER_FILE)


@contextmanager
def usage_errors() -> Iterator[None]:
    """Report a damaged or missing checkpoint as bad input (one line, exit 2)."""
    try:
        yield
    except CheckpointError as error:
        raise UsageError(str(error)) from None


@dataclass
class RunState:
    """What a save records besides the weights: where the run is and how it was set up."""

    step: int
    elapsed: float
    training: dict[str, Any]
    tokenizer_kind: str
    data: dict[str, Any]
    rng: dict[str, Any]


def save_run(
    directory: Path,
    model: GPT,
    optimizer_state: dict[str, Any],
    schedule_state: dict[str, Any],
    state: RunState,
    tokenizer: bytes,
    metrics: bytes,
) -> Path:
    """Publish a new generation of the run, all or nothing; returns its folder."""
    arrays = state_to_arrays(optimizer_state)
    arrays[SCHEDULE_KEY] = np.asarray(json.dumps(schedule_state))
    files = {
        MODEL_FILE: npz_bytes(model.state_dict()),
        OPTIMIZER_FILE: npz_bytes(arrays),
        TOKENIZER_FILE: tokenizer,
        METRICS_FILE: metrics,
    }
    return save_checkpoint(
        directory,
        model.config,
        files,
        step=state.step,
        elapsed=state.elapsed,
        training=state.training,
        tokenizer=state.tokenizer_kind,
        data=state.data,
        rng=state.rng,
    )


def open_run(path: str, label: str, *, for_resume: bool) -> Checkpoint:
    """The current checkpoint of a run folder, with every field of ``config.json`` checked.

    ``for_resume``: a folder without a checkpoint gets a message saying what to do.
    """
    if for_resume and Path(path).is_dir() and not holds_checkpoint(path):
        raise UsageError(
            f"{label}: holds no checkpoint (the run stopped before its first save); "
            f"start it again with `gradstack train --out {path}`"
        )
    ckpt = open_checkpoint(path, label)
    if for_resume or "step" in ckpt.meta:
        check_run_meta(label, ckpt.meta, ckpt.config.to_dict())
    if for_resume:
        for name in REQUIRED_FOR_RESUME:  # present and the files this config.json was saved with
            ckpt.read(name)
    return ckpt


def step_of(ckpt: Checkpoint) -> int:
    """Training steps done (a checked positive int)."""
    return int(ckpt.meta["step"])


def load_model(ckpt: Checkpoint) -> GPT:
    """The GPT of the checkpoint, its weights loaded, checked and finite."""
    model = ckpt.build(GPT)
    ckpt.load_into(model)
    for name, parameter in model.named_parameters():
        if not np.isfinite(parameter.data).all():
            raise ckpt.error(
                f"{MODEL_FILE} holds non-finite weights (NaN or inf in {name}): the run "
                "diverged; train again with a lower --lr"
            )
    return model


def tokenizer_bytes(ckpt: Checkpoint) -> bytes:
    """The checked bytes of the run's tokenizer file."""
    return ckpt.read(TOKENIZER_FILE)


def load_checkpoint_tokenizer(ckpt: Checkpoint) -> Any:
    """The tokenizer, checked against the hash and against the model's vocabulary size."""
    tokenizer_bytes(ckpt)
    try:
        tokenizer = load_tokenizer(ckpt.path / TOKENIZER_FILE)
    except ValueError as error:
        raise ckpt.error(str(error)) from None
    if tokenizer.vocab_size != ckpt.config.vocab_size:
        raise ckpt.error(
            f"{TOKENIZER_FILE} has {tokenizer.vocab_size} tokens but the model's vocab_size is "
            f"{ckpt.config.vocab_size}"
        )
    return tokenizer


def load_optimizer_state(ckpt: Checkpoint) -> tuple[dict[str, Any], dict[str, Any]]:
    """(optimizer state dict, schedule state dict) from ``optimizer.npz``."""
    arrays = ckpt.arrays(OPTIMIZER_FILE)
    if SCHEDULE_KEY not in arrays:
        raise ckpt.error(f"{OPTIMIZER_FILE} holds no learning-rate schedule state")
    try:
        schedule = json.loads(str(arrays.pop(SCHEDULE_KEY)))
        return arrays_to_state(arrays), schedule
    except (ValueError, TypeError) as error:
        raise ckpt.error(f"{OPTIMIZER_FILE} is damaged ({error})") from None


def read_metrics(ckpt: Checkpoint) -> list[dict[str, Any]]:
    """Logged metrics up to the checkpoint's step; a torn or undecodable line is skipped.

    A run of the older layout may have no ``metrics.jsonl``: then there are none.
    """
    path = ckpt.path / METRICS_FILE
    if METRICS_FILE not in ckpt.meta.get("files", {}):  # the older layout: no hash
        data = path.read_bytes() if path.is_file() else b""
    else:
        data = ckpt.read(METRICS_FILE)
    rows = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash
        step = row.get("step") if isinstance(row, dict) else None
        if isinstance(step, int) and not isinstance(step, bool) and step <= step_of(ckpt):
            rows.append(row)
    return rows
