"""A checkpoint folder of generations, published all or nothing.

    DIR/CURRENT          one line naming the current generation ("gen-000007")
    DIR/gen-000007/      the files of the newest save
    DIR/gen-000006/      the save before it (the last two generations are kept)

A save writes every file into a fresh hidden folder ``DIR/.gen-000007.tmp-<pid>``,
fsyncs each file and then the folder, renames the folder to ``gen-000007``, fsyncs
``DIR``, and finally replaces ``CURRENT`` atomically (a temporary file, fsynced, then
``os.replace``): that last rename is the commit. Whenever the process dies, ``CURRENT``
names a complete generation, the new one or the previous one. Without ``CURRENT`` (the
first save died just before writing it) the newest ``gen-*`` folder is current.
``clean_leftovers`` removes what an interrupted save left (hidden temporaries,
generations newer than ``CURRENT``).

Every durable step (mkdir, write, fsync, rename, remove) goes through ``_durable``, the
one place that reads the test-only variable ``GRADSTACK_TEST_SAVE_FAULT``: ``kill:N``
ends the process with exit code 86 at the N-th step, ``enospc:N`` / ``eio:N`` raise
that OSError there. The tests use it to interrupt a save at every step.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

POINTER_FILE = "CURRENT"
KEEP_GENERATIONS = 2
FAULT_VARIABLE = "GRADSTACK_TEST_SAVE_FAULT"
FAULT_EXIT_CODE = 86
_GENERATION = re.compile(r"gen-(\d{6,})")
_FAULTS = {"enospc": errno.ENOSPC, "eio": errno.EIO}
_steps_taken = 0


def _durable(step: Callable[..., Any], *args: Any) -> Any:
    """Run one durable step of a save (the only place where test faults are injected)."""
    global _steps_taken
    fault = os.environ.get(FAULT_VARIABLE)
    if fault:
        _steps_taken += 1
        kind, _, at = fault.partition(":")
        if int(at) == _steps_taken:
            if kind == "kill":
                os._exit(FAULT_EXIT_CODE)
            code = _FAULTS[kind]
            where = [str(arg) for arg in args[:1] if isinstance(arg, (str, Path))]
            raise OSError(code, os.strerror(code), *where)
    return step(*args)


def _write_file(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist) holding ``data``, flushed to the disk."""
    with open(path, "xb") as stream:
        _write_stream(stream, data)


def _write_stream(stream: BinaryIO, data: bytes) -> None:
    """Write ``data``, then flush it through the OS to the disk."""
    stream.write(data)
    stream.flush()
    _durable(os.fsync, stream.fileno())


def fsync_directory(directory: Path) -> None:
    """Flush a folder's entries (new names, renames) to the disk; a no-op on Windows."""
    if os.name == "nt":  # directories cannot be opened for fsync there
        return
    handle = os.open(directory, os.O_RDONLY)
    try:
        _durable(os.fsync, handle)
    finally:
        os.close(handle)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` all at once: a temporary file, fsynced, then renamed."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            _write_stream(stream, data)
        _durable(os.replace, temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def generation_number(name: str) -> int | None:
    """``7`` for ``"gen-000007"``; None for any other name."""
    match = _GENERATION.fullmatch(name)
    return int(match.group(1)) if match else None


def generations(directory: Path) -> dict[int, Path]:
    """Every published generation folder of ``directory``, by number."""
    found = {}
    for entry in directory.iterdir() if directory.is_dir() else ():
        number = generation_number(entry.name)
        if number is not None and entry.is_dir():
            found[number] = entry
    return found


def read_pointer(directory: Path) -> int | None:
    """The generation ``CURRENT`` names; None without the file; ValueError if damaged."""
    try:
        text = (directory / POINTER_FILE).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{POINTER_FILE} cannot be read ({error})") from None
    number = generation_number(text)
    if number is None:
        raise ValueError(f"{POINTER_FILE} does not name a generation (it holds {text[:40]!r})")
    return number


def current_generation(directory: Path) -> Path | None:
    """The folder of the current generation, or None when no save was ever published."""
    found = generations(directory)
    number = read_pointer(directory)
    if number is None:
        return found[max(found)] if found else None
    if number not in found:
        raise ValueError(f"{POINTER_FILE} names gen-{number:06d}, which is missing")
    return found[number]


def _remove_tree(path: Path) -> None:
    """Delete a folder and everything in it."""
    shutil.rmtree(path)


def publish(directory: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` as a new generation of ``directory`` and make it current (see above)."""
    directory.mkdir(parents=True, exist_ok=True)
    found = generations(directory)
    name = f"gen-{max(found, default=0) + 1:06d}"
    temp = directory / f".{name}.tmp-{os.getpid()}"
    try:
        _durable(temp.mkdir)
        for file_name, data in files.items():
            _durable(_write_file, temp / file_name, data)
        fsync_directory(temp)
        _durable(os.rename, temp, directory / name)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    fsync_directory(directory)
    write_atomic(directory / POINTER_FILE, f"{name}\n".encode("ascii"))
    prune(directory)
    return directory / name


def prune(directory: Path) -> None:
    """Remove generations beyond the last ``KEEP_GENERATIONS`` up to the current one."""
    current = read_pointer(directory)
    if current is None:
        return
    older = sorted((n for n in generations(directory) if n <= current), reverse=True)
    for number in older[KEEP_GENERATIONS:]:
        _durable(_remove_tree, directory / f"gen-{number:06d}")


def clean_leftovers(directory: Path) -> list[str]:
    """Remove what interrupted saves left in ``directory``; returns the names removed.

    Hidden temporaries (``.gen-*.tmp-*`` folders, ``.*.tmp`` files) and generations newer
    than the one ``CURRENT`` names. Call it only while no other process saves there.
    """
    removed: list[str] = []
    if not directory.is_dir():
        return removed
    try:
        current = read_pointer(directory)
    except ValueError:  # a damaged pointer: remove temporaries only; the reader reports it
        current = None
    for entry in sorted(directory.iterdir()):
        number = generation_number(entry.name)
        stale_temp = entry.name.startswith(".") and ".tmp" in entry.name
        orphan = number is not None and current is not None and number > current
        if stale_temp or orphan:
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry.name)
    if removed and current is not None:
        prune(directory)
    return removed
