"""``gradstack check``'s last part: the seed GPT's gradient-flow report.

One backward pass of ``GPT(vocab_size=20, embed_dim=16, num_layers=2, num_heads=4)`` (37
parameter tensors) on random tokens, then ``gradstack.autograd.flow_report``: every
parameter must receive a finite gradient. Near-zero flags are shown but are not failures
(the key projections' bias has a true gradient of zero: softmax ignores a constant added
to a row of scores).
"""

from __future__ import annotations

import numpy as np

from gradstack.autograd import FlowReport, flow_report
from gradstack.losses import cross_entropy
from gradstack.tensor import Tensor, manual_seed
from gradstack.transformer import GPT

SEED_GPT = {"vocab_size": 20, "embed_dim": 16, "num_layers": 2, "num_heads": 4}
FAILURES = ("no grad", "non-finite")


def seed_gpt_report(seed: int = 0) -> FlowReport:
    """The flow report of the seed GPT after one backward pass on random tokens."""
    manual_seed(seed)
    model = GPT(**SEED_GPT)
    tokens = np.random.default_rng(seed).integers(0, SEED_GPT["vocab_size"], size=(4, 9))
    logits = model(Tensor(tokens[:, :-1]))  # (4, 8, vocab)
    targets = Tensor(tokens[:, 1:].reshape(-1))
    cross_entropy(logits.reshape(-1, SEED_GPT["vocab_size"]), targets).backward()
    return flow_report(model)


def receives_gradients(report: FlowReport) -> bool:
    """Every parameter got a gradient, and a finite one."""
    return all(not any(flag in FAILURES for flag in row.flags) for row in report)
