"""Errors the command reports as one line on stderr, and the exit codes it uses."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # ``gradstack check``: a gradient check failed
EXIT_USAGE = 2  # bad flags, bad data, bad checkpoint, out of memory, disk errors
EXIT_DIVERGED = 3  # ``gradstack train``: a non-finite loss or gradient; nothing was saved
EXIT_INTERRUPTED = 130  # Ctrl-C during training: a checkpoint was saved (128 + SIGINT)


class UsageError(Exception):
    """Bad input from the user: printed as ``gradstack <command>: error: <message>``, exit 2."""


class TrainingDiverged(Exception):
    """A non-finite loss or gradient norm: printed as one line, exit ``EXIT_DIVERGED``."""
