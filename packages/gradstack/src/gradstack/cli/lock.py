"""One run per folder: an exclusive lock on ``DIR/lock`` for the whole of ``gradstack train``.

The lock is the operating system's (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on
Windows), so it ends with the process however it ends: a killed run leaves no stale
lock. The file holds the holder's pid, which a second run names in its error. The file
itself stays (deleting it would let two runs lock two different files).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from .errors import UsageError

LOCK_FILE = "lock"
_WINDOWS_LOCK_OFFSET = 1 << 30  # msvcrt locks bytes: lock one far past the pid text


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock on ``fd`` without waiting; False if another process has it."""
    try:
        if os.name == "nt":
            import msvcrt

            os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError (POSIX), PermissionError (Windows)
        return False
    return True


def _holder(path: Path) -> str:
    """The pid written in the lock file, for the message."""
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        text = ""
    return f"pid {text}" if text.isdigit() else "another process"


class RunLock:
    """Context manager holding the lock of ``directory`` (which must exist)."""

    def __init__(self, directory: Path, label: str) -> None:
        self.path = directory / LOCK_FILE
        self.label = label
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Lock now, or a UsageError naming the process that holds the folder."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise UsageError(
                f"{self.label}: cannot create {self.path} ({error.strerror})"
            ) from None
        if not _try_lock(fd):
            os.close(fd)
            raise UsageError(
                f"{self.label}: another `gradstack train` ({_holder(self.path)}) is running in "
                "this folder; wait for it to finish or stop it"
            )
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock up (closing the file releases it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self if self._fd is not None else self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def check_not_locked(directory: Path, label: str) -> None:
    """Fail at once if a live run holds ``directory`` (creates nothing)."""
    path = directory / LOCK_FILE
    if not path.is_file():
        return
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return
    try:
        if not _try_lock(fd):
            raise UsageError(
                f"{label}: another `gradstack train` ({_holder(path)}) is running in this "
                "folder; wait for it to finish or stop it"
            )
    finally:
        os.close(fd)
