"""Checking what ``gradstack train`` adds to a checkpoint's ``config.json``, field by field.

``config.json`` is the one file of a checkpoint without a hash (it holds the others'),
so a resume checks every field it reads: its type (a bool is not an int, an int is a
fine float), its range, and that the training settings describe the saved model.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable
from typing import Any

from .errors import UsageError

RUN_KEYS = ("step", "elapsed", "training", "tokenizer", "data", "rng", "files")
TOKENIZERS = ("char", "bpe")
_SHA256 = re.compile(r"[0-9a-f]{64}")

Check = Callable[[Any], bool]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _is_sha256(value: Any) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def positive_int(value: Any) -> bool:
    """An int >= 1."""
    return _is_int(value) and value >= 1


def non_negative_int(value: Any) -> bool:
    """An int >= 0."""
    return _is_int(value) and value >= 0


def positive_number(value: Any) -> bool:
    """A finite number > 0."""
    return _is_number(value) and value > 0


def non_negative_number(value: Any) -> bool:
    """A finite number >= 0."""
    return _is_number(value) and value >= 0


#: Each training setting and what it must be (the flags' own ranges).
TRAINING_FIELDS: dict[str, tuple[Check, str]] = {
    "data": (lambda v: v is None or isinstance(v, str), "a path or null"),
    "tokenizer": (lambda v: v in TOKENIZERS, "'char' or 'bpe'"),
    "vocab_size": (lambda v: v is None or positive_int(v), "a positive int or null"),
    "layers": (positive_int, "a positive int"),
    "embed_dim": (positive_int, "a positive int"),
    "heads": (positive_int, "a positive int"),
    "context": (positive_int, "a positive int"),
    "dropout": (lambda v: _is_number(v) and 0 <= v < 1, "a number in [0, 1)"),
    "batch_size": (positive_int, "a positive int"),
    "steps": (positive_int, "a positive int"),
    "lr": (positive_number, "a finite number > 0"),
    "min_lr": (non_negative_number, "a finite number >= 0"),
    "warmup": (non_negative_int, "an int >= 0"),
    "weight_decay": (non_negative_number, "a finite number >= 0"),
    "grad_clip": (non_negative_number, "a finite number >= 0"),
    "seed": (non_negative_int, "an int >= 0"),
    "shards": (positive_int, "a positive int"),
    "eval_every": (positive_int, "a positive int"),
    "log_every": (positive_int, "a positive int"),
    "sample_tokens": (non_negative_int, "an int >= 0"),
}

#: Training settings that must equal a field of the saved GPTConfig.
MODEL_FIELDS = {
    "layers": "num_layers",
    "embed_dim": "embed_dim",
    "heads": "num_heads",
    "context": "max_seq_len",
    "dropout": "dropout",
}


def _damaged(label: str, what: str) -> UsageError:
    return UsageError(f"{label}: config.json is damaged: {what}")


def _check_field(label: str, where: str, value: Any, check: Check, expected: str) -> None:
    if not check(value):
        raise _damaged(label, f"{where} is {value!r}, expected {expected}")


def check_training(label: str, training: Any, model_config: dict[str, Any]) -> None:
    """``training``: exactly the settings, each valid, agreeing with the model's config."""
    if not isinstance(training, dict):
        raise _damaged(label, f"training is {type(training).__name__}, expected an object")
    missing = sorted(set(TRAINING_FIELDS) - set(training))
    unknown = sorted(set(training) - set(TRAINING_FIELDS))
    if missing or unknown:
        raise _damaged(label, f"training has missing {missing} or unknown {unknown} settings")
    for name, (check, expected) in TRAINING_FIELDS.items():
        _check_field(label, f"training.{name}", training[name], check, expected)
    for name, field in MODEL_FIELDS.items():
        if training[name] != model_config[field]:
            raise _damaged(
                label,
                f"training.{name} is {training[name]!r} but the model's {field} is "
                f"{model_config[field]!r}",
            )


def check_run_meta(label: str, meta: dict[str, Any], model_config: dict[str, Any]) -> None:
    """Every field ``gradstack train`` saved; the first bad one is a one-line UsageError."""
    missing = [key for key in RUN_KEYS if key not in meta]
    if missing:
        raise UsageError(
            f"{label}: config.json was not written by `gradstack train` (no {', '.join(missing)})"
        )
    _check_field(label, "step", meta["step"], positive_int, "a positive int")
    _check_field(label, "elapsed", meta["elapsed"], non_negative_number, "a finite number >= 0")
    check_training(label, meta["training"], model_config)
    tokenizer = meta["tokenizer"]
    if tokenizer != meta["training"]["tokenizer"]:
        raise _damaged(label, f"tokenizer is {tokenizer!r}, the training settings say otherwise")
    data = meta["data"]
    if not isinstance(data, dict):
        raise _damaged(label, f"data is {data!r}, expected an object")
    _check_field(label, "data.sha256", data.get("sha256"), _is_sha256, "a SHA-256 in hex")
    _check_field(label, "data.chars", data.get("chars"), positive_int, "a positive int")
    _check_field(label, "rng", meta["rng"], lambda v: isinstance(v, dict), "an object")
