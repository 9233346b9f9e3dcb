"""Checkpoints: the one writer and the one reader that ``GPT`` and ``gradstack`` share.

A checkpoint is a generation folder (see ``store``) holding ``config.json`` and the
files saved with it. ``config.json`` is ``{"format": "gradstack-gpt", "format_version": 1,
"config": <GPTConfig>, ...anything the saver adds, "files": {name: sha256}}``: the hashes
tie every file to the save that wrote it, so a file from another save or another run is
an error, never a silent mix. ``GPT.save`` writes ``model.npz``; ``gradstack train`` adds
its optimizer, tokenizer and metrics. A folder written by an older gradstack (the files
directly in it, no generations) is read the same way.

Reading never unpickles (``np.load(allow_pickle=False)``), and anything that is not what
the writer wrote is a ``CheckpointError`` (a ValueError) whose message names the folder
and the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import store
from .config import GPTConfig

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.npz"
FORMAT = "gradstack-gpt"
FORMAT_VERSION = 1
HEADER_KEYS = ("format", "format_version", "config", "files")
_LEGACY_FILES = (CONFIG_FILE, WEIGHTS_FILE, "optimizer.npz")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: missing, incomplete, damaged or foreign."""


class CheckpointMissing(CheckpointError, FileNotFoundError):
    """No checkpoint where one was expected (also a FileNotFoundError)."""


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """The bytes of an uncompressed ``.npz`` archive of ``arrays``."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def save_checkpoint(
    directory: str | os.PathLike, config: GPTConfig, files: dict[str, bytes], **extra: Any
) -> Path:
    """Publish ``files`` with a ``config.json`` (``extra`` keys and hashes) as a new generation.

    All or nothing: until the new generation is complete the previous one stays current.
    Returns the new generation's folder.
    """
    directory = Path(directory)
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": config.to_dict()}
    clash = sorted(set(extra) & set(HEADER_KEYS))
    if clash or CONFIG_FILE in files:
        raise ValueError(f"save_checkpoint: {clash or CONFIG_FILE} are written by the checkpoint")
    meta = {**header, **extra, "files": {name: sha256(data) for name, data in files.items()}}
    text = json.dumps(meta, indent=2, allow_nan=False) + "\n"
    store.clean_leftovers(directory)
    return store.publish(directory, {**files, CONFIG_FILE: text.encode("utf-8")})


def holds_checkpoint(directory: str | os.PathLike) -> bool:
    """Whether ``directory`` holds a published checkpoint (or files of an older layout)."""
    directory = Path(directory)
    if (directory / store.POINTER_FILE).exists() or store.generations(directory):
        return True
    return any((directory / name).exists() for name in _LEGACY_FILES)


@dataclass
class Checkpoint:
    """A checkpoint whose ``config.json`` has been read and checked; files are read checked."""

    directory: Path  # the folder the caller named
    path: Path  # the folder holding the files: the current generation (or directory)
    label: str  # how messages name it ("GPT.load: runs/x", "--resume runs/x")
    meta: dict[str, Any]  # the parsed config.json
    config: GPTConfig

    def error(self, message: str) -> CheckpointError:
        """An error naming this checkpoint."""
        return CheckpointError(f"{self.label}: {message}")

    def read(self, name: str) -> bytes:
        """The bytes of one file, checked against its hash in ``config.json``."""
        try:
            data = (self.path / name).read_bytes()
        except FileNotFoundError:
            raise CheckpointMissing(
                f"{self.label}: incomplete checkpoint: missing {name}"
            ) from None
        hashes = self.meta.get("files")
        if hashes is None:  # an older GPT.save wrote no hashes
            return data
        if name not in hashes:
            raise self.error(f"{CONFIG_FILE} lists no hash for {name}")
        if hashes[name] != sha256(data):
            raise self.error(
                f"{name} is not the file {CONFIG_FILE} was saved with (damaged, or copied "
                "from another save or run)"
            )
        return data

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """Every array of the ``.npz`` file ``name``, read without unpickling."""
        data = self.read(name)
        try:
            archive = np.load(io.BytesIO(data), allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("it holds a single array, not an .npz archive")
            with archive:
                return {key: archive[key] for key in archive.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
            raise self.error(f"{name} is not a readable .npz archive ({error})") from None

    def weights(self) -> dict[str, np.ndarray]:
        """The state dict in ``model.npz``: float arrays only."""
        state = self.arrays(WEIGHTS_FILE)
        for key, array in state.items():
            if array.dtype.kind != "f":
                raise self.error(f"{WEIGHTS_FILE}: array {key!r} has non-float dtype {array.dtype}")
        return state

    def build(self, model_class: Any) -> Any:
        """A freshly initialized ``model_class.from_config(config)``; too large is an error."""
        try:
            return model_class.from_config(self.config)
        except MemoryError:
            raise self.error(
                f"the model its {CONFIG_FILE} describes does not fit in memory "
                f"({', '.join(f'{k}={v}' for k, v in self.config.to_dict().items())})"
            ) from None

    def load_into(self, model: Any) -> None:
        """Copy the weights into ``model`` (converted to their dtype); misfits are errors."""
        state = self.weights()
        dtypes = {array.dtype for array in state.values()}
        if len(dtypes) == 1:
            model.to(dtypes.pop())
        try:
            model.load_state_dict(state)
        except (TypeError, ValueError) as error:
            raise self.error(
                f"{WEIGHTS_FILE} does not fit the model in {CONFIG_FILE}: {error}"
            ) from None


def _config_path(directory: Path, label: str) -> Path:
    """The folder whose ``config.json`` describes the current checkpoint of ``directory``."""
    if not directory.is_dir():
        raise CheckpointMissing(f"{label}: no such checkpoint directory")
    try:
        current = store.current_generation(directory)
    except ValueError as error:
        raise CheckpointError(f"{label}: {error}") from None
    if current is not None:
        return current
    if (directory / CONFIG_FILE).is_file():
        return directory  # the layout of older versions: the files directly in the folder
    raise CheckpointMissing(
        f"{label}: holds no checkpoint (no {store.POINTER_FILE}, no gen-* folder, no {CONFIG_FILE})"
    )


def _parse_header(path: Path, label: str) -> dict[str, Any]:
    """The checked JSON object of ``path/config.json``."""
    try:
        meta = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointMissing(f"{label}: incomplete checkpoint: missing {CONFIG_FILE}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{label}: {CONFIG_FILE} is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{label}: {CONFIG_FILE} is not a gradstack checkpoint (no format {FORMAT!r})"
        )
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{label}: {CONFIG_FILE} has format_version {meta.get('format_version')!r}; "
            f"this gradstack reads version {FORMAT_VERSION}"
        )
    files = meta.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise CheckpointError(
            f"{label}: {CONFIG_FILE} is damaged ('files' is not a name: hash map)"
        )
    return meta


def open_checkpoint(directory: str | os.PathLike, label: str | None = None) -> Checkpoint:
    """The current checkpoint in ``directory``, its ``config.json`` read and checked.

    A missing folder or one without a checkpoint is a ``CheckpointMissing``; a damaged or
    foreign ``config.json`` a ``CheckpointError``. ``label`` starts every message.
    """
    directory = Path(directory)
    label = str(directory) if label is None else label
    path = _config_path(directory, label)
    meta = _parse_header(path, label)
    try:
        config = GPTConfig.from_dict(meta.get("config"), CONFIG_FILE)
    except ValueError as error:
        raise CheckpointError(f"{label}: {error}") from None
    return Checkpoint(directory, path, label, meta, config)


def clean_leftovers(directory: str | os.PathLike) -> list[str]:
    """Remove what interrupted saves left in ``directory`` (one writer at a time)."""
    return store.clean_leftovers(Path(directory))
