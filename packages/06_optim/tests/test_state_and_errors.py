"""Exact resume through state_dict, clipping, schedules, groups, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradstack.optim import (
    SGD,
    Adam,
    AdamW,
    CosineAnnealingLR,
    arrays_to_state,
    clip_grad_norm_,
    cosine_lr,
    state_to_arrays,
    weight_decay_groups,
)
from gradstack.tensor import Tensor


def _run(problem, opt, steps: int) -> list[float]:
    losses = []
    for _ in range(steps):
        losses.append(problem.loss_and_grads())
        opt.step()
    return losses


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda ps: Adam(ps, lr=0.05, weight_decay=0.01),
        lambda ps: AdamW(ps, lr=0.05),
    ],
)
def test_resume_is_bit_for_bit(make, tmp_path, make_problem):
    Problem = make_problem  # noqa: N806
    straight = Problem()
    _run(straight, make(straight.params), 10)

    first = Problem()
    opt = make(first.params)
    _run(first, opt, 5)
    path = tmp_path / "opt.npz"
    np.savez(path, **state_to_arrays(opt.state_dict()))
    params = {"w": first.w.data.copy(), "b": first.b.data.copy()}

    resumed = Problem()
    resumed.w.data[...] = params["w"]
    resumed.b.data[...] = params["b"]
    opt2 = make(resumed.params)
    with np.load(path, allow_pickle=False) as saved:
        opt2.load_state_dict(arrays_to_state(dict(saved)))
    _run(resumed, opt2, 5)
    np.testing.assert_array_equal(resumed.w.data, straight.w.data)
    np.testing.assert_array_equal(resumed.b.data, straight.b.data)


def test_state_dict_is_a_copy(problem):
    opt = Adam(problem.params, lr=0.1)
    _run(problem, opt, 1)
    saved = opt.state_dict()
    _run(problem, opt, 1)
    assert saved["state"][0]["step"] == 1
    assert not np.shares_memory(saved["state"][0]["exp_avg"], opt.state[0]["exp_avg"])


def test_load_state_dict_rejects_other_models(problem):
    opt = Adam(problem.params, lr=0.1)
    _run(problem, opt, 1)
    other = Adam([Tensor(np.zeros(3), requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="group 0 has 1 parameters"):
        other.load_state_dict(opt.state_dict())


def test_clip_grad_norm_scales_to_max_norm():
    a = Tensor(np.zeros(2), requires_grad=True)
    b = Tensor(np.zeros(1), requires_grad=True)
    a.grad = Tensor([3.0, 0.0])
    b.grad = Tensor([4.0])
    total = clip_grad_norm_([a, b], max_norm=1.0)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.data, [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(b.grad.data, [0.8], rtol=1e-5)


def test_clip_grad_norm_leaves_small_gradients():
    a = Tensor(np.zeros(2), requires_grad=True)
    a.grad = Tensor([0.3, 0.4])
    assert clip_grad_norm_([a], max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_allclose(a.grad.data, [0.3, 0.4])


def test_clip_grad_norm_errors():
    a = Tensor(np.zeros(1), requires_grad=True)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm_([a], 0.0)
    a.grad = Tensor([np.inf])
    with pytest.raises(FloatingPointError, match="NaN or inf"):
        clip_grad_norm_([a], 1.0)


def test_cosine_schedule_shape():
    lrs = [cosine_lr(s, 1.0, total_steps=110, warmup_steps=10, min_lr=0.1) for s in range(120)]
    np.testing.assert_allclose(lrs[:10], [(s + 1) / 10 for s in range(10)])
    assert lrs[10] == pytest.approx(1.0)
    assert lrs[60] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert lrs[110:] == [0.1] * 10
    assert all(x >= y for x, y in zip(lrs[10:], lrs[11:]))


def test_scheduler_drives_the_optimizer_and_resumes(problem):
    opt = SGD(problem.params, lr=1.0)
    sched = CosineAnnealingLR(opt, T_max=20, warmup_steps=5, eta_min=0.0)
    assert sched.get_last_lr() == [pytest.approx(0.2)]
    for _ in range(7):
        sched.step()
    expected = cosine_lr(7, 1.0, 20, 5)
    assert opt.param_groups[0]["lr"] == pytest.approx(expected)
    other = CosineAnnealingLR(SGD(problem.params, lr=1.0), T_max=20, warmup_steps=5)
    other.load_state_dict(sched.state_dict())
    assert other.get_last_lr() == sched.get_last_lr()


def test_weight_decay_groups_split_by_rank():
    class Model:
        def named_parameters(self):
            yield "w", Tensor(np.zeros((2, 2)), requires_grad=True)
            yield "b", Tensor(np.zeros(2), requires_grad=True)

    groups = weight_decay_groups(Model(), 0.1)
    assert [len(g["params"]) for g in groups] == [1, 1]
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    assert groups[0]["params"][0].ndim == 2


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda ps: SGD(ps, lr=-1.0), "lr must be >= 0"),
        (lambda ps: SGD(ps, lr=0.1, nesterov=True), "nesterov"),
        (lambda ps: Adam(ps, betas=(1.0, 0.9)), "betas"),
        (lambda ps: Adam(ps, weight_decay=-1), "weight_decay"),
        (lambda ps: SGD([], lr=0.1), "empty parameter list"),
        (lambda ps: SGD([Tensor([1.0])], lr=0.1), "does not require grad"),
        (lambda ps: SGD([{"params": ps, "foo": 1}], lr=0.1), "unknown options"),
        (lambda ps: SGD([{"params": ps}, {"params": ps}], lr=0.1), "two groups"),
    ],
)
def test_bad_arguments(problem, make, message):
    with pytest.raises(ValueError, match=message):
        make(problem.params)


def test_arrays_to_state_rejects_foreign_files():
    with pytest.raises(ValueError, match="parameter groups are missing"):
        arrays_to_state({"weight": np.zeros(3)})
