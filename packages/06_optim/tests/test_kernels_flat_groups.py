"""The Adam/AdamW kernel (gradstack.optim.kernels) against the reference update.

The kernel steps a whole group as one flat vector, in place; its results must equal,
bit for bit, the tensor-by-tensor kernel update (forced by giving every parameter its
own group) and the reference's four lines (kernels forced off with use_references).
"""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.optim import Adam, AdamW
from gradstack.optim.kernels import FlatGroup, can_flatten
from gradstack.optim.kernels.adam import (
    ADAM_BLOCK,
    GATHER_BELOW,
    _direct_size,
    _mostly_large,
    flat_groups,
)
from gradstack.optim.kernels.flat import DIRECT_SIZE
from gradstack.tensor import (
    LARGE_CALL,
    Tensor,
    blas_pool,
    intra_op,
    intra_op_settings,
    kernels_enabled,
    use_references,
)

# Kernel against reference needs the kernels on: GRADSTACK_KERNELS=0 runs references only.
pytestmark = pytest.mark.skipif(
    not kernels_enabled(), reason="GRADSTACK_KERNELS=0 for this run: there is no kernel to test"
)
SHAPES = [(4, 3), (3,), (2, 2, 5), (1,)]


def make_params(seed: int = 0, dtype: str = "float32") -> list[Tensor]:
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(s), requires_grad=True, dtype=dtype) for s in SHAPES]


def set_grads(params: list[Tensor], step: int, skip: int | None = None) -> None:
    """Deterministic gradients for ``step``; parameter ``skip`` gets none."""
    rng = np.random.default_rng(100 + step)
    for i, p in enumerate(params):
        grad = rng.standard_normal(p.shape).astype(p.dtype)
        p.grad = None if i == skip else Tensor(grad, dtype=p.dtype)


def advance(opt, params: list[Tensor], steps: range, skips: dict[int, int] | None = None) -> None:
    """Run the updates numbered ``steps``, each with that step's gradients."""
    for step in steps:
        set_grads(params, step, (skips or {}).get(step))
        opt.step()


def run(optimizer_class, grouped: bool, steps: int, skips: dict[int, int] | None = None):
    """Parameters after ``steps`` updates, either in one group or one group per parameter."""
    params = make_params()
    groups = params if grouped else [{"params": [p]} for p in params]
    opt = optimizer_class(groups, lr=0.01, weight_decay=0.1)
    advance(opt, params, range(steps), skips)
    return params, opt


@pytest.mark.parametrize("optimizer_class", [Adam, AdamW])
def test_flat_group_update_equals_per_tensor_update_bit_for_bit(optimizer_class):
    flat, flat_opt = run(optimizer_class, grouped=True, steps=5)
    single, single_opt = run(optimizer_class, grouped=False, steps=5)
    assert 0 in flat_groups(flat_opt)  # the flat path really ran
    assert not flat_groups(single_opt)
    for a, b in zip(flat, single):
        np.testing.assert_array_equal(a.data, b.data)
    flat_state, single_state = flat_opt.state_dict()["state"], single_opt.state_dict()["state"]
    for i in range(len(SHAPES)):
        assert flat_state[i]["step"] == single_state[i]["step"] == 5
        for name in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_array_equal(flat_state[i][name], single_state[i][name])
            assert flat_state[i][name].shape == SHAPES[i]


def test_a_missing_gradient_falls_back_to_per_tensor_steps_with_the_same_results():
    skips = {2: 1}  # parameter 1 has no gradient on step 2: step counts then differ
    flat, flat_opt = run(AdamW, grouped=True, steps=6, skips=skips)
    single, _ = run(AdamW, grouped=False, steps=6, skips=skips)
    for a, b in zip(flat, single):
        np.testing.assert_array_equal(a.data, b.data)
    steps = [flat_opt.state[i]["step"] for i in range(len(SHAPES))]
    assert steps == [6, 5, 6, 6]


def test_resuming_from_a_state_dict_rebuilds_the_flat_buffers_and_matches_an_unbroken_run():
    unbroken, _ = run(AdamW, grouped=True, steps=6)
    params, opt = run(AdamW, grouped=True, steps=3)
    saved = opt.state_dict()
    resumed_params = [Tensor(p.data.copy(), requires_grad=True, dtype="float32") for p in params]
    resumed = AdamW(resumed_params, lr=0.01, weight_decay=0.1)
    resumed.load_state_dict(saved)
    advance(resumed, resumed_params, range(3, 6))
    for a, b in zip(unbroken, resumed_params):
        np.testing.assert_array_equal(a.data, b.data)


def test_loading_state_into_an_optimizer_that_already_stepped_replaces_its_flat_buffers():
    unbroken, _ = run(AdamW, grouped=True, steps=3)
    params, opt = run(AdamW, grouped=True, steps=1)
    saved_state, saved_params = opt.state_dict(), [p.data.copy() for p in params]
    advance(opt, params, range(1, 5))  # move on, so the flat buffers hold other moments
    opt.load_state_dict(saved_state)
    for p, saved in zip(params, saved_params):
        np.copyto(p.data, saved)
    advance(opt, params, range(1, 3))
    for a, b in zip(unbroken, params):
        np.testing.assert_array_equal(a.data, b.data)


def test_can_flatten_needs_two_parameters_all_with_gradients_one_dtype_one_step_count():
    params = make_params()
    set_grads(params, 0)
    assert can_flatten(params, [None] * 4)
    assert not can_flatten(params[:1], [None])
    assert not can_flatten(params, [{"step": 1}, {"step": 1}, {"step": 2}, {"step": 1}])
    assert not can_flatten(params, [{"step": 1}, None, None, None])
    params[2].grad = None
    assert not can_flatten(params, [None] * 4)
    mixed = [params[0], Tensor(np.ones(3), requires_grad=True, dtype="float64")]
    mixed[1].grad = Tensor(np.ones(3), dtype="float64")
    assert not can_flatten(mixed, [None, None])


def test_flat_group_state_entries_are_views_that_the_update_writes_through():
    params = make_params()
    set_grads(params, 0)
    states = [{"step": 0} for _ in params]
    flat = FlatGroup(params, states, ("exp_avg",))
    flat.buffers["exp_avg"][:] = np.arange(flat.buffers["exp_avg"].size)
    assert states[1]["exp_avg"].tolist() == [12.0, 13.0, 14.0]  # after the 4x3 block
    assert flat.is_current(params, states)
    states[1]["exp_avg"] = states[1]["exp_avg"].copy()
    assert not flat.is_current(params, states)
    flat.gather()
    flat.param += 1.0
    flat.scatter()
    np.testing.assert_array_equal(params[3].data, make_params()[3].data + 1.0)
    np.testing.assert_array_equal(flat.grad[-1:], params[3].grad.data)


def run_with(optimizer_class, kernels: bool, dtype: str, steps: int, **options):
    """Parameters and optimizer state after ``steps`` updates, kernels on or off."""
    params = make_params(dtype=dtype)
    opt = optimizer_class(params, **options)
    if kernels:
        advance(opt, params, range(steps), {2: 1})
    else:
        with use_references():
            advance(opt, params, range(steps), {2: 1})
    return params, opt.state_dict()["state"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("optimizer_class", "options"),
    [
        (Adam, {"lr": 0.01}),
        (Adam, {"lr": 0.01, "weight_decay": 0.1}),
        (AdamW, {"lr": 0.01, "weight_decay": 0.1, "betas": (0.8, 0.99), "eps": 1e-6}),
    ],
)
def test_kernel_equals_the_reference_bit_for_bit_over_several_steps(
    optimizer_class, options, dtype
):
    kernel, kernel_state = run_with(optimizer_class, True, dtype, 6, **options)
    reference, reference_state = run_with(optimizer_class, False, dtype, 6, **options)
    for a, b in zip(kernel, reference):
        assert a.dtype == b.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a.data, b.data)
    for i in range(len(SHAPES)):
        assert kernel_state[i]["step"] == reference_state[i]["step"]
        for name in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_array_equal(kernel_state[i][name], reference_state[i][name])


def test_switching_kernels_off_and_on_mid_run_gives_the_same_parameters():
    unbroken, _ = run(AdamW, grouped=True, steps=6)
    params = make_params()
    opt = AdamW(params, lr=0.01, weight_decay=0.1)
    advance(opt, params, range(2))
    with use_references():
        advance(opt, params, range(2, 4))
    advance(opt, params, range(4, 6))
    for a, b in zip(unbroken, params):
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("optimizer_class", [Adam, AdamW])
def test_a_group_split_over_threads_equals_the_whole_group_bit_for_bit(optimizer_class, threads):
    whole, whole_opt = run(optimizer_class, grouped=True, steps=5)
    with intra_op_settings(threads=threads, min_work=0):  # every group splits
        flat = flat_groups(whole_opt)[0]
        assert len(flat.split(threads)) == min(threads, len(SHAPES))
        split, split_opt = run(optimizer_class, grouped=True, steps=5)
    for a, b in zip(whole, split):
        np.testing.assert_array_equal(a.data, b.data)
    whole_state, split_state = whole_opt.state_dict()["state"], split_opt.state_dict()["state"]
    for i in range(len(SHAPES)):
        for name in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_array_equal(whole_state[i][name], split_state[i][name])


def test_split_runs_cover_every_parameter_once_in_order():
    params = make_params()
    flat = FlatGroup(params, [{} for _ in params], ("exp_avg",))
    for count in range(1, 6):
        runs = flat.split(count)
        assert runs[0][0] == 0 and runs[-1][1] == len(params)
        assert all(a[1] == b[0] for a, b in zip(runs, runs[1:]))  # contiguous, no gaps
        assert all(lo < hi for lo, hi in runs)
        assert len(runs) <= count
    # sizes 12, 3, 20, 1: halving 36 elements cuts after the second parameter
    assert flat.split(2) == [(0, 2), (2, 4)]


def test_a_group_larger_than_a_cache_block_updates_bit_for_bit_as_per_tensor_steps():
    shapes = [(2 * ADAM_BLOCK // 300 + 7, 300), (3,), (ADAM_BLOCK + 5,)]  # blocks cut params
    rng = np.random.default_rng(3)
    inits = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    results = []
    for grouped in (True, False):
        params = [Tensor(a.copy(), requires_grad=True) for a in inits]
        opt = AdamW(params if grouped else [{"params": [p]} for p in params], lr=0.01)
        for step in range(3):
            grads = np.random.default_rng(step)
            for p in params:
                p.grad = Tensor(grads.standard_normal(p.shape).astype(np.float32))
            opt.step()
        assert bool(flat_groups(opt)) is grouped
        results.append([p.data for p in params])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_large_contiguous_parameters_update_in_place_and_small_ones_in_runs():
    sizes = [3, DIRECT_SIZE, 5, 7, DIRECT_SIZE + 1, 2]
    params = [Tensor(np.zeros(n, dtype=np.float32), requires_grad=True) for n in sizes]
    params[4].data = np.zeros(2 * (DIRECT_SIZE + 1), dtype=np.float32)[::2]  # large, strided
    assert params[4].data.size == DIRECT_SIZE + 1 and not params[4].data.flags.c_contiguous
    flat = FlatGroup(params, [{} for _ in params], ("exp_avg",))
    assert flat.segments(0, 6) == [(0, 1, False), (1, 2, True), (2, 6, False)]
    assert flat.segments(2, 4) == [(2, 4, False)]


def test_piece_sizes_cut_runs_and_large_parameters_at_the_block_size():
    sizes = [3, DIRECT_SIZE, 5, 7, 2 * DIRECT_SIZE + 1]
    params = [Tensor(np.zeros(n, dtype=np.float32), requires_grad=True) for n in sizes]
    flat = FlatGroup(params, [{} for _ in params], ("exp_avg",))
    # runs: [3], [DIRECT_SIZE] direct, [5, 7] gathered, [2 * DIRECT_SIZE + 1] direct
    assert flat.piece_sizes(DIRECT_SIZE) == [3, DIRECT_SIZE, 12, DIRECT_SIZE, DIRECT_SIZE, 1]
    assert flat.piece_sizes(10 * DIRECT_SIZE) == [3, DIRECT_SIZE, 12, 2 * DIRECT_SIZE + 1]


def zeros(sizes: list[int]) -> list[Tensor]:
    return [Tensor(np.zeros(n, dtype=np.float32), requires_grad=True) for n in sizes]


def test_only_groups_mostly_in_large_calls_ask_for_openblas_threads():
    half = LARGE_CALL // 2
    assert _mostly_large([LARGE_CALL, half])  # two thirds in one large piece
    assert _mostly_large([LARGE_CALL, LARGE_CALL, 9])
    assert not _mostly_large([LARGE_CALL, half + 1, half + 1])  # just under half
    assert not _mostly_large([LARGE_CALL - 1] * 4)


def test_medium_parameters_are_gathered_only_when_that_makes_the_calls_large():
    medium = 4 * DIRECT_SIZE  # updated on its own arrays by default, in one short call
    assert medium < GATHER_BELOW and ADAM_BLOCK >= LARGE_CALL
    assert _direct_size(zeros([medium] * 8)) == GATHER_BELOW  # gathered: pieces of a block
    assert _direct_size(zeros([2 * ADAM_BLOCK, medium])) == DIRECT_SIZE  # large already
    assert _direct_size(zeros([DIRECT_SIZE // 2] * 3)) == DIRECT_SIZE  # never large


def test_a_group_with_gathered_medium_parameters_keeps_its_flat_buffers_between_steps():
    params = zeros([4 * DIRECT_SIZE] * 8)
    opt = AdamW(params, lr=0.01)
    for step in range(3):
        for p in params:
            p.grad = Tensor(np.full(p.shape, step + 1.0, dtype=np.float32))
        opt.step()
        flat = flat_groups(opt)[0]
        if step == 0:
            first = flat
        assert flat is first and flat.direct_size == GATHER_BELOW
        assert flat.segments(0, len(params)) == [(0, len(params), False)]


@pytest.mark.parametrize("optimizer_class", [Adam, AdamW])
def test_large_parameters_split_on_openblas_threads_equal_the_whole_group(
    optimizer_class, monkeypatch
):
    """Bit for bit; and the split really ran on OpenBLAS's threads where NumPy has them."""
    monkeypatch.setattr(blas_pool._Pool, "held_at", -blas_pool.SPIN_SECONDS)  # no shards ran
    borrowed = []
    run_on_blas = intra_op.run_on_blas_threads
    monkeypatch.setattr(
        intra_op, "run_on_blas_threads", lambda tasks: (borrowed.append(1), run_on_blas(tasks))
    )
    shapes = [(ADAM_BLOCK + 9,), (7, 3), (2 * ADAM_BLOCK // 64, 64)]
    rng = np.random.default_rng(5)
    inits = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    results = []
    for threads in (1, 2):
        params = [Tensor(a.copy(), requires_grad=True) for a in inits]
        opt = optimizer_class(params, lr=0.01, weight_decay=0.1)
        with intra_op_settings(threads=threads, min_work=0):
            for step in range(3):
                grads = np.random.default_rng(step)
                for p in params:
                    p.grad = Tensor(grads.standard_normal(p.shape).astype(np.float32))
                opt.step()
        assert _mostly_large(flat_groups(opt)[0].piece_sizes(ADAM_BLOCK))
        results.append([p.data for p in params])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    assert len(borrowed) == (3 if blas_pool.blas_pool_threads() >= 2 else 0)
