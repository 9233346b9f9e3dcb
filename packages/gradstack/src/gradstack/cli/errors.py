"""Errors the command reports as one line on stderr, and the exit codes it uses."""

from __future__ import annotations

import warnings

EXIT_OK = 0
EXIT_FAILED = 1  # ``gradstack check``: a gradient check failed
EXIT_USAGE = 2  # bad flags, bad data, bad checkpoint, out of memory, disk errors
EXIT_DIVERGED = 3  # ``gradstack train``: a non-finite loss or gradient; nothing was saved
EXIT_INTERRUPTED = 130  # Ctrl-C during training: a checkpoint was saved (128 + SIGINT)


class UsageError(Exception):
    """Bad input from the user: printed as ``gradstack <command>: error: <message>``, exit 2."""


class TrainingDiverged(Exception):
    """A non-finite loss or gradient norm: printed as one line, exit ``EXIT_DIVERGED``."""


def quiet_numeric_warnings() -> None:
    """Silence NumPy's overflow/invalid-value warnings for this process (every thread).

    The command checks losses, gradients, weights and logits for NaN and inf itself and
    reports them in one line; the warnings would only add lines to stderr.
    """
    warnings.filterwarnings(
        "ignore",
        message="(overflow|invalid value|divide by zero) encountered",
        category=RuntimeWarning,
    )
