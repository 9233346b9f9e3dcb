"""Persistent benchmark workers driven in fine-grained, interleaved slices.

A shared machine has slow phases (other jobs, memory bandwidth taken by neighbours)
that last seconds. When each framework runs all its steps in one go, a slow phase hits
one framework and not the others, and the ratio between them moves by 20% from run to
run. Here each framework keeps one process alive (its model built once) and the
orchestrator hands out short slices of work in turn: framework 1 runs a few steps, then
framework 2, then 3, then 1 again, with the starting framework rotating every round. Each
framework then meets the same mix of slow and fast phases, and ratios of medians become
stable.

The protocol is one JSON object per line: a request on the worker's stdin, a reply on its
stdout (anything else a library prints is skipped). Idle workers block on a pipe read,
and a short pause before each slice lets the previous worker's thread pools go to sleep.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any]], dict[str, Any]]

SETTLE_SECONDS = 0.3  # the last worker's spinning thread pools go to sleep (OpenBLAS: ~0.1 s)


class Worker:
    """One framework in its own interpreter, answering requests over a pipe."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its reply."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith("{"):
                return json.loads(line)
        errors = self.process.stderr.read() if self.process.stderr else ""
        self.process.wait(timeout=60)  # reaped: close() then sees it exited, asks nothing
        raise RuntimeError(f"benchmark worker {self.name} exited:\n{errors}")

    def close(self) -> None:
        """Ask the worker to exit and wait for it."""
        if self.process.poll() is None:
            self.ask({"op": "quit"})
            self.process.wait(timeout=60)


def serve(handler: Handler) -> None:
    """The worker side: answer each request line with ``handler``'s reply until "quit"."""
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "quit":
            print(json.dumps({"ok": True}), flush=True)
            return
        print(json.dumps(handler(request)), flush=True)


def interleave(
    workers: dict[str, Worker],
    request: dict[str, Any],
    rounds: int,
    settle: float = SETTLE_SECONDS,
) -> dict[str, list[dict[str, Any]]]:
    """Send ``request`` to every worker in turn, ``rounds`` times; the replies by worker.

    The worker that goes first rotates every round, so none always follows the same one;
    ``settle`` seconds pass before each request.
    """
    names = list(workers)
    replies: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            time.sleep(settle)
            replies[name].append(workers[name].ask(request))
    return replies
