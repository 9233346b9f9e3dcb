"""The speed flags of ``gradstack train`` and ``gradstack bench``, and the process setting.

Both settings are the library's own defaults; the command only pins or opts out of them.
Its step, the plain loop a user writes, is in ``training_step.py``.

- ``--shards N``: the batch is split into N shards that run forward and backward at once
  in Python threads, one BLAS thread each. GPT's forward kernel does this in any loop
  (``gradstack.autograd.sharded_call``, ``shards_for``); the command pins the count with
  ``gradstack.autograd.use_shards``. The default comes from
  ``gradstack.autograd.suggest_shards``: one shard per core when the batch is large
  enough, else 1. It is saved with the run, so a resumed run computes the same sums.
- ``--no-malloc-tuning``: gradstack asks glibc to keep freed large blocks when it is
  imported (``gradstack.tensor.runtime.apply_defaults``); this flag puts glibc's
  initial thresholds back (``restore_malloc``).
"""

from __future__ import annotations

import argparse

from gradstack.tensor import restore_malloc, tune_malloc


def apply_process_settings(args: argparse.Namespace) -> None:
    """The process-wide part: malloc tuned (the library's default) unless the user opted out."""
    if getattr(args, "malloc_tuning", True):
        tune_malloc()
    else:
        restore_malloc()
