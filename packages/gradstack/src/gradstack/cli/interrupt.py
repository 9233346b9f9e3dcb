"""Ctrl-C during training: finish the current step, save, then stop.

A KeyboardInterrupt raised in the middle of ``optimizer.step()`` would leave half the
parameters updated, and a checkpoint of that state could not resume exactly. So while
training, the first SIGINT only sets a flag that the loop reads between steps; a second
one raises KeyboardInterrupt at once (the last checkpoint on disk stays intact).
"""

from __future__ import annotations

import signal
from types import FrameType, TracebackType
from typing import Any


class StopOnInterrupt:
    """Context manager: ``requested`` turns True at the first Ctrl-C."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        """First Ctrl-C: ask the loop to stop; second: interrupt now."""
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopOnInterrupt:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        signal.signal(signal.SIGINT, self._previous)
