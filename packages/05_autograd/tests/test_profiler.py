"""profile: per-op forward and backward totals that add up to the time they were measured in."""

from __future__ import annotations

import numpy as np
import pytest

import gradstack.tensor as gt
from gradstack.autograd import no_grad, profile
from gradstack.layers import Linear, Sequential
from gradstack.losses import mse_loss
from gradstack.tensor import Tensor, manual_seed


def mlp(width: int) -> Sequential:
    manual_seed(0)
    return Sequential(Linear(width, width), Linear(width, width), Linear(width, 1))


def test_counts_bytes_and_names_of_forward_and_backward():
    model = mlp(8)
    x = Tensor(np.ones((4, 8), dtype=np.float32))
    with profile() as prof:
        loss = mse_loss(model(x), Tensor(np.zeros((4, 1), dtype=np.float32)))
        loss.backward()
    rows = {(row.name, row.kind): row for row in prof.key_averages()}
    assert set(rows) == {
        ("linear", "forward"),
        ("mse_loss", "forward"),
        ("LinearBackward", "backward"),
        ("MseLossBackward", "backward"),
    }
    assert rows["linear", "forward"].calls == 3
    assert rows["LinearBackward", "backward"].calls == 3
    # outputs (4, 8), (4, 8), (4, 1) in float32
    assert rows["linear", "forward"].bytes == 4 * (32 + 32 + 4)
    assert rows["mse_loss", "forward"].bytes == 4
    # gradients for every input that needs one: x needs none; weights, biases and hiddens do
    assert rows["LinearBackward", "backward"].bytes == 4 * ((64 + 8) + (32 + 64 + 8) + (32 + 8 + 1))
    assert all(row.total > 0 and row.mean == row.total / row.calls for row in rows.values())


def test_totals_add_up_to_the_step_they_were_measured_in():
    """Big matrices, so the ops are nearly all of the step; compared with prof's own clock."""
    model = mlp(512)
    x = Tensor(np.random.default_rng(0).standard_normal((256, 512), dtype=np.float32))
    target = Tensor(np.zeros((256, 1), dtype=np.float32))
    with profile() as prof:
        for _ in range(3):
            mse_loss(model(x), target).backward()
    assert 0.9 * prof.wall <= prof.total <= prof.wall


def test_results_are_the_same_with_and_without_the_profiler():
    x = Tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    plain = (x.tanh() * x).sum()
    plain.backward()
    expected = x.grad.numpy().copy()
    x.grad = None
    with profile():
        profiled = (x.tanh() * x).sum()
        profiled.backward()
    assert profiled.item() == plain.item()
    assert np.array_equal(x.grad.numpy(), expected)


def test_the_hook_is_removed_on_exit_even_after_an_error():
    with pytest.raises(ValueError), profile():
        raise ValueError("boom")
    assert gt.apply.__globals__["_op_hook"] is None
    with profile() as prof, no_grad():
        Tensor([1.0]) + 1.0
    assert [(row.name, row.kind, row.calls) for row in prof.key_averages()] == [
        ("add", "forward", 1)
    ]
    Tensor([1.0]) + 1.0  # after the block: not recorded
    assert prof.key_averages()[0].calls == 1


def test_profiles_do_not_nest():
    outer = profile()
    with outer, pytest.raises(RuntimeError, match="profile: a profile is already open"):
        profile().__enter__()
    assert gt.apply.__globals__["_op_hook"] is None


def test_table_lists_rows_by_time_and_the_covered_share():
    model = mlp(8)
    with profile() as prof:
        model(Tensor(np.ones((2, 8), dtype=np.float32))).sum().backward()
    lines = prof.table(row_limit=2).splitlines()
    assert lines[0].split() == [
        "name",
        "kind",
        "calls",
        "total",
        "ms",
        "mean",
        "us",
        "share",
        "out",
        "MB",
    ]
    totals = [row.total for row in prof.key_averages()]
    assert totals == sorted(totals, reverse=True)
    assert lines[2].split()[0] == prof.key_averages()[0].name
    assert lines[4] == f"... {len(totals) - 2} more rows"
    assert lines[5].startswith("recorded: ")
    assert str(prof) == prof.table()


def test_table_sorts_by_calls_and_names_a_bad_key():
    model = mlp(8)
    with profile() as prof:
        model(Tensor(np.ones((2, 8), dtype=np.float32))).sum().backward()
    first = prof.table(sort_by="calls").splitlines()[2].split()
    assert first[:3] in (["linear", "forward", "3"], ["LinearBackward", "backward", "3"])
    with pytest.raises(ValueError, match="profile.table: sort_by must be one of"):
        prof.table(sort_by="name")
