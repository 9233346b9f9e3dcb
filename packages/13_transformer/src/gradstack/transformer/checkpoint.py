"""Saving and loading a GPT: ``config.json`` (JSON) and ``model.npz`` (arrays, no pickle).

Each file is written to a temporary name in the same directory and moved into place
with ``os.replace``, so a crash never leaves a half-written checkpoint. Reading never
unpickles (``np.load(allow_pickle=False)``), and anything that is not what ``save``
wrote is a ValueError naming the file.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from .config import GPTConfig

if TYPE_CHECKING:
    from .gpt import GPT

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.npz"
FORMAT = "gradstack-gpt"
FORMAT_VERSION = 1


def _write_atomic(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write through ``write`` into a temporary file beside ``path``, then rename it."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def save_gpt(model: GPT, path_dir: str | os.PathLike) -> None:
    """Write the weights, then the config, each atomically, into ``path_dir``."""
    directory = Path(path_dir)
    directory.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": model.config.to_dict()}
    text = json.dumps(payload, indent=2) + "\n"
    _write_atomic(directory / WEIGHTS_FILE, lambda stream: np.savez(stream, **state))
    _write_atomic(directory / CONFIG_FILE, lambda stream: stream.write(text.encode("utf-8")))


def read_config(path: Path) -> GPTConfig:
    """Parse ``config.json``; anything but a gradstack GPT config is a ValueError."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"GPT.load: {path} is not valid JSON ({error})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"GPT.load: {path} is not a gradstack GPT config (no format {FORMAT!r})")
    if payload.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"GPT.load: {path} has format_version {payload.get('format_version')!r}; "
            f"this gradstack reads version {FORMAT_VERSION}"
        )
    return GPTConfig.from_dict(payload.get("config"), source=f"GPT.load: {path}")


def read_weights(path: Path) -> dict[str, np.ndarray]:
    """Read every array of ``model.npz`` without unpickling; damage is a ValueError."""
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an .npz archive")
        with archive:
            state = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise ValueError(f"GPT.load: {path} is not a readable .npz of weights ({error})") from None
    for name, array in state.items():
        if array.dtype.kind != "f":
            raise ValueError(f"GPT.load: {path}: array {name!r} has non-float dtype {array.dtype}")
    return state


def read_checkpoint(path_dir: str | os.PathLike) -> tuple[GPTConfig, dict[str, np.ndarray]]:
    """The config and the state dict saved in ``path_dir``."""
    directory = Path(path_dir)
    if not directory.is_dir():
        raise FileNotFoundError(f"GPT.load: {directory} is not a directory")
    return read_config(directory / CONFIG_FILE), read_weights(directory / WEIGHTS_FILE)


def load_into(model: GPT, state: dict[str, Any], path_dir: str | os.PathLike) -> None:
    """Copy ``state`` into ``model`` (converted to the saved dtype); errors name the file."""
    dtypes = {array.dtype for array in state.values()}
    if len(dtypes) == 1:
        model.to(dtypes.pop())
    try:
        model.load_state_dict(state)
    except (TypeError, ValueError) as error:
        path = Path(path_dir) / WEIGHTS_FILE
        raise ValueError(
            f"GPT.load: {path} does not fit the model in its config: {error}"
        ) from None
