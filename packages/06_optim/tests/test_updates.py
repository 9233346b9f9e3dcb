"""Each optimizer's update checked against the formula computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.optim import SGD, Adam, AdamW
from gradstack.tensor import Tensor


def _param(values, grad) -> Tensor:
    p = Tensor(np.array(values, dtype=np.float64), requires_grad=True, dtype="float64")
    p.grad = Tensor(np.array(grad, dtype=np.float64), dtype="float64")
    return p


def test_sgd_plain_step():
    p = _param([1.0, -2.0], [0.5, 0.25])
    SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [1.0 - 0.05, -2.0 - 0.025])


def test_sgd_momentum_weight_decay_two_steps():
    p = _param([1.0], [0.5])
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    opt.step()  # d = 0.5 + 0.1 * 1 = 0.6; buf = 0.6; p = 1 - 0.06 = 0.94
    np.testing.assert_allclose(p.data, [0.94])
    opt.step()  # d = 0.5 + 0.094 = 0.594; buf = 0.54 + 0.594 = 1.134; p = 0.94 - 0.1134
    np.testing.assert_allclose(p.data, [0.94 - 0.1134])


def test_sgd_nesterov():
    p = _param([1.0], [1.0])
    opt = SGD([p], lr=0.1, momentum=0.5, nesterov=True)
    opt.step()  # buf = 1; d = 1 + 0.5 = 1.5
    np.testing.assert_allclose(p.data, [0.85])
    opt.step()  # buf = 0.5 + 1 = 1.5; d = 1 + 0.75 = 1.75
    np.testing.assert_allclose(p.data, [0.85 - 0.175])


def test_adam_first_step_moves_by_lr():
    # After bias correction the first Adam step is lr * g / (|g| + eps') = lr * sign(g).
    p = _param([1.0, 1.0], [3.0, -0.01])
    Adam([p], lr=0.1, eps=0.0).step()
    np.testing.assert_allclose(p.data, [0.9, 1.1])


def test_adam_two_steps_by_hand():
    p = _param([0.0], [1.0])
    opt = Adam([p], lr=0.01, betas=(0.9, 0.99), eps=1e-8)
    opt.step()
    p.grad = Tensor(np.array([2.0]), dtype="float64")
    opt.step()
    m = 0.9 * 0.1 + 0.1 * 2.0
    v = 0.99 * 0.01 + 0.01 * 4.0
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.99**2)
    expected = -0.01 - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(p.data, [expected], rtol=1e-6)


def test_adamw_decays_weights_decoupled():
    p = _param([2.0], [0.0])
    AdamW([p], lr=0.1, weight_decay=0.5).step()
    # grad 0: the Adam part is 0 / (0 + eps) = 0, only the decay acts: 2 * (1 - 0.05)
    np.testing.assert_allclose(p.data, [1.9])


def test_adam_l2_decay_enters_the_gradient():
    p = _param([2.0], [0.0])
    Adam([p], lr=0.1, weight_decay=0.5, eps=0.0).step()
    # g = 0 + 0.5 * 2 = 1 > 0, so the first step is -lr
    np.testing.assert_allclose(p.data, [1.9])


def test_update_is_in_place(problem):
    arrays = [p.data for p in problem.params]
    opt = AdamW(problem.params, lr=0.01)
    for _ in range(3):
        problem.loss_and_grads()
        opt.step()
    assert all(p.data is a for p, a in zip(problem.params, arrays))


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.05, momentum=0.9),
        lambda ps: Adam(ps, lr=0.05),
        lambda ps: AdamW(ps, lr=0.05),
    ],
)
def test_loss_falls(problem, make):
    opt = make(problem.params)
    first = problem.loss_and_grads()
    for _ in range(100):
        opt.step()
        last = problem.loss_and_grads()
    assert last < 0.5 * first


def test_zero_grad_modes(problem):
    opt = SGD(problem.params, lr=0.1)
    problem.loss_and_grads()
    opt.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in problem.params)
    opt.zero_grad()
    assert all(p.grad is None for p in problem.params)


def test_parameters_without_grad_are_skipped(problem):
    before = problem.b.data.copy()
    problem.loss_and_grads()
    problem.b.grad = None
    Adam(problem.params, lr=0.1).step()
    np.testing.assert_array_equal(problem.b.data, before)


def test_param_groups_take_their_own_options(problem):
    problem.loss_and_grads()
    w_before, b_before = problem.w.data.copy(), problem.b.data.copy()
    opt = SGD([{"params": [problem.w], "lr": 0.0}, {"params": [problem.b]}], lr=0.1)
    opt.step()
    np.testing.assert_array_equal(problem.w.data, w_before)
    np.testing.assert_allclose(problem.b.data, b_before - 0.1 * problem.b.grad.data, rtol=1e-6)
