"""MSE, BCE and BCE-with-logits forward values against float64 NumPy references."""

import math

import numpy as np
import pytest

from gradstack.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    MSELoss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    mse_loss,
)
from gradstack.tensor import Tensor

RNG = np.random.default_rng(1)
SHAPE = (3, 4, 2)


def f64(x):
    return Tensor(x, dtype="float64")


def reduce(losses, reduction):
    return {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]


def ref_bce(p, y):
    log_p = np.array([max(math.log(v), -100.0) if v > 0 else -100.0 for v in p.ravel()])
    log_q = np.array([max(math.log(1 - v), -100.0) if v < 1 else -100.0 for v in p.ravel()])
    return -(y.ravel() * log_p + (1 - y.ravel()) * log_q).reshape(p.shape)


def ref_bce_with_logits(x, y):
    """-(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))) with exact log-sigmoids."""
    log_sig = np.array([-math.log1p(math.exp(-v)) if v > -30 else v for v in x.ravel()])
    log_one_minus = np.array([-math.log1p(math.exp(v)) if v < 30 else -v for v in x.ravel()])
    return -(y.ravel() * log_sig + (1 - y.ravel()) * log_one_minus).reshape(x.shape)


FUNCTIONS = {
    "mse": (mse_loss, MSELoss, lambda x, y: (x - y) ** 2),
    "bce": (binary_cross_entropy, BCELoss, ref_bce),
    "bce_logits": (binary_cross_entropy_with_logits, BCEWithLogitsLoss, ref_bce_with_logits),
}


def sample_inputs(name, shape=SHAPE):
    if name == "bce":
        return RNG.uniform(0.01, 0.99, shape), RNG.uniform(0, 1, shape)
    if name == "bce_logits":
        return RNG.standard_normal(shape) * 4, RNG.uniform(0, 1, shape)
    return RNG.standard_normal(shape), RNG.standard_normal(shape)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_values_for_every_reduction(name, reduction):
    fn, _, ref = FUNCTIONS[name]
    x, y = sample_inputs(name)
    out = fn(f64(x), f64(y), reduction=reduction)
    expected = reduce(ref(x, y), reduction)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_default_reduction_is_mean_and_float32_is_kept(name):
    fn, _, ref = FUNCTIONS[name]
    x, y = sample_inputs(name)
    out = fn(Tensor(x), Tensor(y))
    assert out.dtype == np.float32 and out.shape == ()
    np.testing.assert_allclose(out.item(), ref(x, y).mean(), rtol=1e-5)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_class_equals_function(name, reduction):
    fn, cls, _ = FUNCTIONS[name]
    x, y = (Tensor(a) for a in sample_inputs(name))
    loss = cls(reduction=reduction)
    np.testing.assert_array_equal(loss(x, y).data, fn(x, y, reduction=reduction).data)
    assert repr(loss) == f"{cls.__name__}(reduction={reduction!r})"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_zero_dim_operands(name):
    fn, _, ref = FUNCTIONS[name]
    x, y = (np.asarray(v) for v in sample_inputs(name, ()))
    for reduction in ("mean", "sum", "none"):
        out = fn(f64(x), f64(y), reduction=reduction)
        assert isinstance(out.data, np.ndarray) and out.shape == ()
        np.testing.assert_allclose(out.data, ref(x, y), rtol=1e-12)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_empty_input_mean_is_nan_and_sum_is_zero(name):
    fn, _, _ = FUNCTIONS[name]
    empty = Tensor(np.zeros((0, 3), dtype=np.float32))
    assert np.isnan(fn(empty, empty).item())
    assert fn(empty, empty, reduction="sum").item() == 0
    assert fn(empty, empty, reduction="none").shape == (0, 3)


def test_bce_clamps_its_logs_at_minus_100_like_pytorch():
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-50])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = binary_cross_entropy(f64(p), f64(y), reduction="none").data
    np.testing.assert_allclose(out, [100.0, 100.0, 0.0, 0.0, 100.0])


def test_bce_known_value():
    out = binary_cross_entropy(Tensor([0.5, 0.8]), Tensor([1.0, 0.0]), reduction="sum")
    np.testing.assert_allclose(out.item(), math.log(2) - math.log(0.2), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_stable_at_large_magnitudes(dtype):
    x = np.array([-1e4, -1e4, 1e4, 1e4, -50.0, 50.0, 0.0])
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.3, 0.3, 0.5])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = binary_cross_entropy_with_logits(
            Tensor(x, dtype=dtype), Tensor(y, dtype=dtype), reduction="none"
        ).data
    assert out.dtype == dtype
    np.testing.assert_allclose(out, [0.0, 1e4, 1e4, 0.0, 15.0, 35.0, math.log(2)], rtol=1e-6)


def test_mse_known_value_and_targets_as_arrays():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert mse_loss(x, np.array([[1.0, 0.0], [3.0, 0.0]])).item() == 5.0
    assert mse_loss(x, [[0.0, 0.0], [0.0, 0.0]], reduction="sum").item() == 30.0


@pytest.mark.parametrize(
    ("name", "op"),
    [
        ("mse", "MseLossBackward"),
        ("bce", "BinaryCrossEntropyBackward"),
        ("bce_logits", "BinaryCrossEntropyWithLogitsBackward"),
    ],
)
def test_each_loss_is_one_recorded_op_with_the_target_as_second_input(name, op):
    fn, _, _ = FUNCTIONS[name]
    x, y = sample_inputs(name)
    inp, target = Tensor(x, requires_grad=True), Tensor(y)
    out = fn(inp, target)
    assert out.grad_fn.name() == op
    assert out.grad_fn.inputs == (inp, target)
    assert out.grad_fn.needs_input_grad == (True, False)
    assert out.grad_fn.attrs == {"reduction": "mean"}


# -- errors ---------------------------------------------------------------------------

OPS = {
    "mse": "mse_loss",
    "bce": "binary_cross_entropy",
    "bce_logits": "binary_cross_entropy_with_logits",
}


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize(
    ("input_shape", "target_shape"), [((3, 1), (3,)), ((3,), (1, 3)), ((2, 3), (3, 2)), ((4,), ())]
)
def test_shapes_must_match_exactly(name, input_shape, target_shape):
    fn, _, _ = FUNCTIONS[name]
    message = (
        rf"^{OPS[name]}: input shape \({input_shape[0]},.*\) and target shape \(.*\) differ; "
        r"they must be equal \(nothing is broadcast\)"
    )
    with pytest.raises(ValueError, match=message):
        fn(Tensor(np.full(input_shape, 0.5)), Tensor(np.full(target_shape, 0.5)))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_dtype_errors(name):
    fn, _, _ = FUNCTIONS[name]
    op = OPS[name]
    with pytest.raises(TypeError, match=rf"^{op}: input must be floating-point, got dtype int64"):
        fn(Tensor(np.zeros(3, dtype=np.int64)), Tensor(np.zeros(3)))
    with pytest.raises(
        TypeError, match=rf"^{op}: target must be floating-point like the input, got dtype int64"
    ):
        fn(Tensor(np.zeros(3)), Tensor(np.array([0, 1, 1])))
    with pytest.raises(
        TypeError, match=rf"^{op}: input dtype float32 and target dtype float64 differ"
    ):
        fn(Tensor(np.zeros(3)), f64(np.zeros(3)))
    with pytest.raises(TypeError, match=rf"^{op}: input must be a Tensor, got list"):
        fn([0.5], Tensor([0.5]))
    with pytest.raises(TypeError, match=rf"^{op}: target must be a Tensor or an array, got str"):
        fn(Tensor([0.5]), "a")


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("reduction", ["avg", None, "SUM"])
def test_unknown_reduction_is_a_value_error(name, reduction):
    fn, cls, _ = FUNCTIONS[name]
    with pytest.raises(
        ValueError, match=rf"^{OPS[name]}: reduction must be one of \('mean', 'sum', 'none'\)"
    ):
        fn(Tensor([0.5]), Tensor([0.5]), reduction=reduction)
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: reduction must be one of"):
        cls(reduction=reduction)


@pytest.mark.parametrize("bad", [-0.1, 1.5, -3.0])
def test_bce_input_outside_0_1_is_a_value_error(bad):
    p = Tensor([0.2, bad, 0.5])
    message = (
        r"^binary_cross_entropy: input must hold probabilities in \[0, 1\], "
        rf"got 1 value\(s\) outside, e.g. {np.float32(bad)}"
    )
    with pytest.raises(ValueError, match=message):
        binary_cross_entropy(p, Tensor([0.0, 1.0, 1.0]))
