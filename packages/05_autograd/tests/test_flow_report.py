"""flow_report: one row per parameter after a backward, flags for the gradient-flow bugs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradstack.autograd import flow_report
from gradstack.layers import Linear, Module, Parameter
from gradstack.tensor import Tensor, manual_seed


class Leaky(Module):
    """A small model with the bugs the report exists to catch, each in one parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.healthy = Linear(3, 3)
        self.detached = Parameter(np.ones((3,), dtype=np.float32))
        self.zeroed = Parameter(np.ones((3,), dtype=np.float32))
        self.frozen = Parameter(np.ones((3,), dtype=np.float32), requires_grad=False)

    def forward(self, x: Tensor) -> Tensor:
        h = self.healthy(x)
        h = h + self.detached.detach()  # the bug: the graph is cut here
        h = h + self.zeroed * 0.0  # the bug: the parameter's effect is multiplied away
        return (h * self.frozen).sum()


def leaky_after_backward() -> Leaky:
    manual_seed(0)
    model = Leaky()
    model(Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))).backward()
    return model


def test_detached_parameter_and_zeroed_gradient_are_flagged():
    report = flow_report(leaky_after_backward())
    rows = {row.name: row for row in report}
    assert list(rows) == ["healthy.weight", "healthy.bias", "detached", "zeroed", "frozen"]
    assert rows["detached"].flags == ("no grad",)
    assert rows["detached"].has_grad is False and rows["detached"].grad_norm is None
    assert rows["zeroed"].flags == ("all zero",)
    assert rows["zeroed"].grad_norm == 0.0 and rows["zeroed"].zero_fraction == 1.0
    assert rows["frozen"].flags == ("frozen",) and rows["frozen"].ok
    assert rows["healthy.weight"].flags == () and rows["healthy.bias"].flags == ()
    assert [row.name for row in report.problems()] == ["detached", "zeroed"]
    assert report.ok is False
    assert report.with_grad() == 3


def test_values_of_a_row_are_the_gradient_norms():
    model = leaky_after_backward()
    row = next(r for r in flow_report(model) if r.name == "healthy.weight")
    grad = model.healthy.weight.grad.numpy().astype(np.float64)
    weight = model.healthy.weight.numpy().astype(np.float64)
    assert row.shape == (3, 3)
    assert row.grad_norm == pytest.approx(np.linalg.norm(grad))
    assert row.relative_norm == pytest.approx(np.linalg.norm(grad) / np.linalg.norm(weight))
    assert row.zero_fraction == pytest.approx(np.mean(grad == 0))


def test_non_finite_exploding_and_vanishing_gradients_are_flagged():
    manual_seed(0)
    model = Linear(4, 4)
    model.weight.grad = Tensor(np.full((4, 4), np.nan, dtype=np.float32))
    model.bias.grad = Tensor(np.ones(4, dtype=np.float32))
    assert flow_report(model).rows[0].flags == ("non-finite",)

    class Many(Module):
        def __init__(self) -> None:
            super().__init__()
            for i in range(5):
                setattr(self, f"p{i}", Parameter(np.ones(4, dtype=np.float32)))

        def forward(self, x: Tensor) -> Tensor:
            return x

    many = Many()
    for i, scale in enumerate([1.0, 1.0, 1.0, 1e5, 1e-6]):
        getattr(many, f"p{i}").grad = Tensor(np.full(4, scale, dtype=np.float32))
    flags = {row.name: row.flags for row in flow_report(many)}
    assert flags == {"p0": (), "p1": (), "p2": (), "p3": ("exploding",), "p4": ("vanishing",)}


def test_table_and_data_forms():
    report = flow_report(leaky_after_backward())
    table = report.table()
    lines = table.splitlines()
    assert lines[0].split() == [
        "parameter",
        "shape",
        "grad",
        "|grad|",
        "|grad|/|w|",
        "zeros",
        "flags",
    ]
    detached = next(line for line in lines if line.startswith("detached"))
    assert detached.endswith("no grad")
    assert lines[-1] == (
        "3/5 parameter tensors have gradients; flagged: detached (no grad), zeroed (all zero)"
    )
    assert str(report) == table
    records = json.loads(json.dumps(report.as_dicts()))
    assert records[2] == {
        "name": "detached",
        "shape": [3],
        "has_grad": False,
        "grad_norm": None,
        "weight_norm": pytest.approx(3**0.5),
        "relative_norm": None,
        "zero_fraction": None,
        "flags": ["no grad"],
    }


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="flow_report: expects a Module"):
        flow_report(object())
    with pytest.raises(ValueError, match="flow_report: need explode > 1"):
        flow_report(Linear(2, 2), explode=0.5)
