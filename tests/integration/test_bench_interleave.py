"""The benchmark's turn-taking (bench/interleave.py): persistent workers answer requests
over a pipe, and every round hands each worker one slice, the first worker rotating."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

# A worker that answers with its name, a running count, its pid and the time (one
# monotonic clock for all processes); non-JSON lines on stdout (what a library might
# print) must be skipped by the reader.
WORKER = """
import os, sys, time
sys.path.insert(0, {bench!r})
from interleave import serve
calls = [0]
def handle(request):
    calls[0] += 1
    print("noise a library printed")
    return {{"name": {name!r}, "call": calls[0], "count": request["count"], "pid": os.getpid(),
             "at": time.monotonic_ns()}}
serve(handle)
"""


@pytest.fixture(scope="module")
def interleave():
    path = BENCH / "interleave.py"
    spec = importlib.util.spec_from_file_location("gradstack_bench_interleave", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start(interleave, name: str):
    code = WORKER.format(bench=str(BENCH), name=name)
    return interleave.Worker(name, [sys.executable, "-c", code], dict(os.environ))


def test_each_round_asks_every_worker_once_and_the_first_worker_rotates(interleave):
    workers = {name: start(interleave, name) for name in ("a", "b", "c")}
    try:
        replies = interleave.interleave(workers, {"op": "steps", "count": 4}, 4, settle=0.0)
    finally:
        for worker in workers.values():
            worker.close()
    answered = sorted((r["at"], r["name"]) for answers in replies.values() for r in answers)
    assert "".join(name for _, name in answered) == "abcbcacababc"
    for name, answers in replies.items():
        assert [r["name"] for r in answers] == [name] * 4
        assert [r["call"] for r in answers] == [1, 2, 3, 4]  # one process, state kept
        assert {r["count"] for r in answers} == {4}
        assert len({r["pid"] for r in answers}) == 1
    assert len({answers[0]["pid"] for answers in replies.values()}) == 3
    assert all(w.process.returncode == 0 for w in workers.values())


def test_a_worker_that_dies_is_reported_with_its_error(interleave):
    worker = interleave.Worker("broken", [sys.executable, "-c", "raise SystemExit('no model')"],
                               dict(os.environ))  # fmt: skip
    with pytest.raises(RuntimeError, match="benchmark worker broken exited:\n.*no model"):
        worker.ask({"op": "steps", "count": 1})
    worker.process.wait(timeout=60)  # its stdout closes just before it exits
    worker.close()
