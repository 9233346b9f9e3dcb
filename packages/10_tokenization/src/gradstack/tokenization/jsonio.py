"""Tokenizer files: JSON with a fixed header, written atomically, read with clear errors.

Every file is a JSON object with ``"format": "gradstack-tokenizer"``, ``"type"`` (``"char"``
or ``"bpe"``) and ``"version": 1``. JSON rather than pickle, so loading a file never runs
code; a temporary file plus ``os.replace``, so a crash never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = "gradstack-tokenizer"
VERSION = 1
TYPES = ("char", "bpe")

PathLike = str | os.PathLike[str]


def write_json_atomic(path: PathLike, payload: dict[str, Any]) -> None:
    """Write ``payload`` as JSON to ``path`` via a temporary file in the same directory."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            json.dump(payload, f, ensure_ascii=True, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def tokenizer_payload(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Return ``body`` preceded by the header that marks a gradstack tokenizer file."""
    return {"format": FORMAT, "type": kind, "version": VERSION, **body}


def read_tokenizer_json(path: PathLike, expected_type: str | None = None) -> dict[str, Any]:
    """Read a tokenizer file and check its header; a damaged or foreign file is a ValueError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a gradstack tokenizer file (not UTF-8 text: {exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a gradstack tokenizer file (invalid JSON: {exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f'{path}: not a gradstack tokenizer file (no "format": "{FORMAT}")')
    if data.get("version") != VERSION:
        raise ValueError(
            f"{path}: unsupported tokenizer file version {data.get('version')!r} "
            f"(this gradstack reads version {VERSION})"
        )
    kind = data.get("type")
    if kind not in TYPES:
        raise ValueError(f"{path}: unknown tokenizer type {kind!r} (expected one of {TYPES})")
    if expected_type is not None and kind != expected_type:
        raise ValueError(
            f"{path}: holds a {kind!r} tokenizer, not a {expected_type!r} one; "
            "use gradstack.tokenization.load_tokenizer to load any type"
        )
    return data


def require(data: dict[str, Any], key: str, kind: type | tuple[type, ...], path: PathLike) -> Any:
    """Return ``data[key]`` checked against ``kind``; otherwise a ValueError naming the file."""
    if key not in data:
        raise ValueError(f"{path}: damaged tokenizer file (missing key {key!r})")
    value = data[key]
    if not isinstance(value, kind):
        raise ValueError(
            f"{path}: damaged tokenizer file ({key!r} is a {type(value).__name__}, "
            f"expected {_type_names(kind)})"
        )
    return value


def _type_names(kind: type | tuple[type, ...]) -> str:
    """Name one type or a tuple of types for an error message."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)
