"""flow_report on the seed's GPT: all 37 parameter tensors receive finite gradients."""

from __future__ import annotations

import numpy as np

from gradstack.autograd import flow_report
from gradstack.losses import cross_entropy
from gradstack.tensor import Tensor, manual_seed
from gradstack.transformer import GPT


def gpt_after_backward(detach_lm_head: bool = False) -> GPT:
    manual_seed(0)
    model = GPT(vocab_size=20, embed_dim=16, num_layers=2, num_heads=4)
    tokens = np.random.default_rng(0).integers(0, 20, size=(4, 9))
    logits = model(Tensor(tokens[:, :-1]))
    if detach_lm_head:  # the bug class the regression suites guard against: a cut graph
        logits = logits.detach() + 0.0 * logits.detach()
        logits.requires_grad = True
    loss = cross_entropy(logits.reshape(-1, 20), Tensor(tokens[:, 1:].reshape(-1)))
    loss.backward()
    return model


def test_all_37_gpt_parameters_receive_finite_gradients():
    report = flow_report(gpt_after_backward())
    assert len(report) == 37
    assert report.with_grad() == 37
    for row in report:
        assert "no grad" not in row.flags and "non-finite" not in row.flags, row
        assert row.grad_norm is not None and np.isfinite(row.grad_norm)
    lm_head = next(row for row in report if row.name == "lm_head.weight")
    assert lm_head.flags == () and lm_head.grad_norm > 1e-3
    assert report.summary().startswith("37/37 parameter tensors have gradients")


def test_a_graph_cut_after_the_model_leaves_every_parameter_without_gradient():
    report = flow_report(gpt_after_backward(detach_lm_head=True))
    assert report.with_grad() == 0
    assert all(row.flags == ("no grad",) for row in report)
    assert report.summary().startswith("0/37 parameter tensors have gradients; flagged: ")
