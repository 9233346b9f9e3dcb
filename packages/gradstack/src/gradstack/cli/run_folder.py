"""The run folder of ``gradstack train``: choosing it, locking it, cleaning it.

A new run's ``--out`` must not hold a checkpoint (a folder without a complete one counts
as empty); a resumed run's folder is locked before its checkpoint is read. Either way
the folder stays locked (``lock``) until the process ends, and what an interrupted save
left is removed once the lock is held.
"""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from pathlib import Path

from gradstack.transformer import Checkpoint, clean_leftovers, holds_checkpoint

from . import checkpoint as ckpt_files
from .errors import UsageError
from .lock import RunLock, check_not_locked


def new_run_directory(args: argparse.Namespace) -> Path:
    """The new run's directory: ``--out`` or ``runs/<timestamp>``; never an existing run."""
    directory = Path(args.out or time.strftime("runs/%Y%m%d-%H%M%S"))
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--out {directory}: exists and is not a directory")
    if directory.is_dir():
        check_not_locked(directory, f"--out {directory}")
        refuse_a_run(directory)
    return directory


def refuse_a_run(directory: Path) -> None:
    """``--out`` must not hold a checkpoint (a folder without one counts as empty)."""
    if holds_checkpoint(directory):
        raise UsageError(
            f"--out {directory}: already holds a checkpoint; continue it with "
            f"`gradstack train --resume {directory}` or choose another --out"
        )


def open_resumed(args: argparse.Namespace, lock: ExitStack) -> Checkpoint:
    """Lock the folder of ``--resume``, clean what an interrupted save left, open the run."""
    label = f"--resume {args.resume}"
    directory = Path(args.resume)
    if not directory.is_dir():
        raise UsageError(f"{label}: no such checkpoint directory")
    lock.enter_context(RunLock(directory, label))
    clean_leftovers(directory)
    return ckpt_files.open_run(args.resume, label, for_resume=True)


def claim_new_directory(directory: Path, lock: ExitStack) -> None:
    """Create and lock a new run's folder; check again that it holds no run, clean it."""
    label = f"--out {directory}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{label}: cannot write there ({error.strerror})") from None
    lock.enter_context(RunLock(directory, label))
    refuse_a_run(directory)
    clean_leftovers(directory)
