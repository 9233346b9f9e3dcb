"""The settings of a training run: flags, defaults, checks, and what a resume may change.

Every flag defaults to ``None`` in argparse so that a resume can tell the flags the user
gave from the ones they left out: left-out flags take the saved run's values (or, for
a new run, ``DEFAULTS``), given ones must agree with the saved run unless they are
in ``RESUMABLE`` (settings that do not change the model, the data or the tokenizer).
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError
from .speed_args import default_shards

MIN_BPE_VOCAB = 256


@dataclass(frozen=True)
class TrainSettings:
    """Everything that defines a training run (saved in config.json as ``training``)."""

    data: str | None
    tokenizer: str
    vocab_size: int | None
    layers: int
    embed_dim: int
    heads: int
    context: int
    dropout: float
    batch_size: int
    steps: int
    lr: float
    min_lr: float
    warmup: int
    weight_decay: float
    grad_clip: float
    seed: int
    shards: int
    eval_every: int
    log_every: int
    sample_tokens: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return dataclasses.asdict(self)


DEFAULTS: dict[str, Any] = {
    "data": None,
    "tokenizer": "char",
    "vocab_size": None,
    "layers": 4,
    "embed_dim": 128,
    "heads": 4,
    "context": 64,
    "dropout": 0.0,
    "batch_size": 32,
    "steps": 1500,
    "lr": 3e-3,
    "min_lr": None,  # lr / 10
    "warmup": None,  # min(100, steps // 10)
    "weight_decay": 0.1,
    "grad_clip": 1.0,
    "seed": 1337,
    "shards": None,  # speed.default_shards: one per core for a large enough batch
    "eval_every": 100,
    "log_every": 10,
    "sample_tokens": 200,
}
DEFAULT_BPE_VOCAB = 512
DEFAULT_WARMUP = 100

#: Settings a resumed run may change: they alter neither the model nor the data.
RESUMABLE = frozenset({"steps", "eval_every", "log_every", "sample_tokens"})


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The settings flags the user actually passed (``--data`` as an absolute path)."""
    names = [field.name for field in dataclasses.fields(TrainSettings)]
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if "data" in given:  # a resume may run from another working directory
        given["data"] = str(Path(given["data"]).absolute())
    return given


def _fill(values: dict[str, Any]) -> dict[str, Any]:
    """Derived defaults: the minimum learning rate, the warm-up, the BPE vocabulary size."""
    if values["warmup"] is None:
        values["warmup"] = min(DEFAULT_WARMUP, values["steps"] // 10)
    if values["min_lr"] is None:
        values["min_lr"] = values["lr"] / 10
    if values["tokenizer"] == "bpe" and values["vocab_size"] is None:
        values["vocab_size"] = DEFAULT_BPE_VOCAB
    if values["shards"] is None:
        values["shards"] = default_shards(
            values["batch_size"],
            values["context"],
            values["embed_dim"],
            values["layers"],
        )
    return values


def new_settings(args: argparse.Namespace) -> TrainSettings:
    """Settings for a new run: the given flags over ``DEFAULTS``, checked."""
    given = _given(args)
    if given.get("tokenizer", "char") == "char" and "vocab_size" in given:
        raise UsageError("--vocab-size applies to --tokenizer bpe only (char: one token per char)")
    settings = TrainSettings(**_fill({**DEFAULTS, **given}))
    check_settings(settings)
    return settings


def resumed_settings(args: argparse.Namespace, saved: dict[str, Any]) -> TrainSettings:
    """Settings for ``--resume``: the saved run's, with the changes a resume may make."""
    given = _given(args)
    for name, value in given.items():
        if name not in RESUMABLE and value != saved.get(name):
            flag = "--" + name.replace("_", "-")
            raise UsageError(
                f"{flag} {value} differs from the resumed run's {saved.get(name)!r}; only "
                + ", ".join("--" + n.replace("_", "-") for n in sorted(RESUMABLE))
                + " may change when resuming"
            )
    try:
        settings = TrainSettings(**{**saved, **given})
    except TypeError as error:
        raise UsageError(f"the checkpoint's training settings are damaged ({error})") from None
    check_settings(settings)
    return settings


def check_settings(s: TrainSettings) -> None:
    """Checks that span several flags (single values are checked by argparse)."""
    if s.embed_dim % s.heads:
        raise UsageError(f"--heads {s.heads} does not divide --embed-dim {s.embed_dim}")
    if s.tokenizer == "bpe" and (s.vocab_size is None or s.vocab_size < MIN_BPE_VOCAB):
        raise UsageError(
            f"--vocab-size {s.vocab_size} is below {MIN_BPE_VOCAB}: a byte-level BPE "
            f"vocabulary holds the {MIN_BPE_VOCAB} byte values plus its merges"
        )
    if s.warmup > s.steps:
        raise UsageError(f"--warmup {s.warmup} is longer than --steps {s.steps}")
    if s.min_lr > s.lr:
        raise UsageError(f"--min-lr {s.min_lr:g} is above --lr {s.lr:g}")
    if s.shards > s.batch_size:
        raise UsageError(f"--shards {s.shards} is more than --batch-size {s.batch_size}")
