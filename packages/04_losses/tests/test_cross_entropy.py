"""cross_entropy / CrossEntropyLoss forward values against a float64 NumPy reference."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstack.losses import CrossEntropyLoss, cross_entropy
from gradstack.tensor import Tensor

RNG = np.random.default_rng(0)


def ref_cross_entropy(logits, target, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    """Row by row: -sum(q * log_softmax(x)) with q the smoothed one-hot target."""
    classes = logits.shape[-1]
    rows = logits.reshape(-1, classes).astype(np.float64)
    flat = np.asarray(target).reshape(-1)
    losses = np.zeros(len(flat))
    for i, (row, t) in enumerate(zip(rows, flat)):
        if t == ignore_index:
            continue
        shifted = row - row.max()
        log_probs = shifted - np.log(np.sum(np.exp(shifted)))
        q = np.full(classes, label_smoothing / classes)
        q[t] += 1.0 - label_smoothing
        losses[i] = -np.sum(q * log_probs)
    if reduction == "none":
        return losses.reshape(np.shape(target))
    if reduction == "sum":
        return losses.sum()
    count = np.count_nonzero(flat != ignore_index)
    return losses.sum() / count if count else np.nan


def f64(x):
    return Tensor(x, dtype="float64")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0])
def test_two_dim_logits(reduction, label_smoothing):
    logits = RNG.standard_normal((6, 5)) * 3
    target = RNG.integers(0, 5, size=6)
    out = cross_entropy(
        f64(logits), Tensor(target), label_smoothing=label_smoothing, reduction=reduction
    )
    expected = ref_cross_entropy(
        logits, target, label_smoothing=label_smoothing, reduction=reduction
    )
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
def test_three_dim_logits_with_ignored_targets(reduction, label_smoothing):
    logits = RNG.standard_normal((2, 4, 7))  # (B, T, C)
    target = RNG.integers(0, 7, size=(2, 4))  # (B, T)
    target[0, 1] = target[1, 3] = -100
    out = cross_entropy(f64(logits), target, label_smoothing=label_smoothing, reduction=reduction)
    expected = ref_cross_entropy(
        logits, target, label_smoothing=label_smoothing, reduction=reduction
    )
    assert out.shape == ((2, 4) if reduction == "none" else ())
    np.testing.assert_allclose(out.data, expected, rtol=1e-13)
    if reduction == "none":
        assert out.data[0, 1] == 0 and out.data[1, 3] == 0


def test_mean_divides_by_the_number_of_targets_not_ignored():
    logits = RNG.standard_normal((5, 3))
    target = np.array([0, 2, -100, -100, 1])
    per_row = cross_entropy(f64(logits), target, reduction="none").data
    mean = cross_entropy(f64(logits), target).data
    np.testing.assert_allclose(mean, per_row.sum() / 3, rtol=1e-14)


def test_ignore_index_can_be_a_valid_class():
    logits = RNG.standard_normal((4, 3))
    target = np.array([0, 1, 2, 1])
    out = cross_entropy(f64(logits), target, ignore_index=1, reduction="none").data
    expected = ref_cross_entropy(logits, target, ignore_index=1, reduction="none")
    np.testing.assert_allclose(out, expected, rtol=1e-13)
    assert out[1] == 0 and out[3] == 0


def test_every_target_ignored_gives_nan_mean_and_zero_sum():
    logits = f64(RNG.standard_normal((3, 4)))
    target = np.full(3, -100)
    assert np.isnan(cross_entropy(logits, target).item())
    assert cross_entropy(logits, target, reduction="sum").item() == 0
    np.testing.assert_array_equal(cross_entropy(logits, target, reduction="none").data, 0)


def test_one_dim_logits_with_a_scalar_target():
    logits = np.array([1.0, 2.0, 3.0])
    out = cross_entropy(f64(logits), 2)
    assert out.shape == ()
    np.testing.assert_allclose(out.data, np.log(np.exp(logits).sum()) - 3.0, rtol=1e-14)
    assert cross_entropy(f64(logits), np.array(0), reduction="none").shape == ()


def test_known_value_uniform_logits():
    out = cross_entropy(Tensor(np.zeros((4, 10))), np.arange(4))
    np.testing.assert_allclose(out.item(), np.log(10), rtol=1e-6)


def test_empty_batch():
    logits = Tensor(np.zeros((0, 5), dtype=np.float32))
    target = np.zeros(0, dtype=np.int64)
    assert np.isnan(cross_entropy(logits, target).item())
    assert cross_entropy(logits, target, reduction="sum").item() == 0
    assert cross_entropy(logits, target, reduction="none").shape == (0,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_at_large_magnitudes(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [5e3, 5e3, -5e3], [1e4, 1e4 - 2, 0]])
    target = np.array([1, 2, 0, 1])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = cross_entropy(Tensor(logits, dtype=dtype), target, reduction="none")
        smooth = cross_entropy(Tensor(logits, dtype=dtype), target, label_smoothing=0.1)
    assert out.dtype == dtype and smooth.dtype == dtype
    expected = ref_cross_entropy(logits, target, reduction="none")
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    np.testing.assert_allclose(out.data[:3], [2e4, 0.0, np.log(2)], rtol=1e-6)
    assert np.isfinite(smooth.item())


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint64])
def test_any_integer_target_dtype(dtype):
    logits = RNG.standard_normal((3, 4))
    target = np.array([3, 0, 2], dtype=dtype)
    np.testing.assert_allclose(
        cross_entropy(f64(logits), target).data, ref_cross_entropy(logits, target), rtol=1e-13
    )


def test_target_as_tensor_ndarray_or_list_and_float32_kept():
    logits = Tensor(RNG.standard_normal((3, 4)))
    values = [
        cross_entropy(logits, t).item() for t in (Tensor([1, 2, 3]), np.array([1, 2, 3]), [1, 2, 3])
    ]
    assert values[0] == values[1] == values[2]
    assert cross_entropy(logits, [1, 2, 3]).dtype == np.float32


def test_is_one_recorded_op_whose_target_is_an_attribute():
    logits = Tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    target = np.array([0, 1, -100])
    out = cross_entropy(logits, target, label_smoothing=0.1)
    assert out.grad_fn.name() == "CrossEntropyBackward"
    assert out.grad_fn.inputs == (logits,)
    attrs = out.grad_fn.attrs
    assert attrs["ignore_index"] == -100 and attrs["label_smoothing"] == 0.1
    assert attrs["reduction"] == "mean"
    np.testing.assert_array_equal(attrs["target"], target)
    saved = out.grad_fn.saved
    probs = saved.probs
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(saved.target, [0, 1, 0])
    np.testing.assert_array_equal(saved.valid, [True, True, False])
    assert saved.count == 2


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_class_equals_function(reduction):
    logits = Tensor(RNG.standard_normal((2, 3, 4)))
    target = np.array([[0, 1, -1], [3, -1, 2]])
    loss = CrossEntropyLoss(ignore_index=-1, label_smoothing=0.05, reduction=reduction)
    expected = cross_entropy(
        logits, target, ignore_index=-1, label_smoothing=0.05, reduction=reduction
    )
    np.testing.assert_array_equal(loss(logits, target).data, expected.data)
    np.testing.assert_array_equal(loss.forward(logits, target).data, expected.data)


# -- errors ---------------------------------------------------------------------------


def test_float_target_is_a_type_error():
    with pytest.raises(
        TypeError,
        match=r"^cross_entropy: target must hold integer class indices, got dtype float32",
    ):
        cross_entropy(Tensor(np.zeros((2, 3))), Tensor([0.0, 1.0]))
    with pytest.raises(TypeError, match=r"got dtype bool"):
        cross_entropy(Tensor(np.zeros((2, 3))), np.array([True, False]))


def test_target_of_the_wrong_kind_is_a_type_error():
    with pytest.raises(
        TypeError, match=r"^cross_entropy: target must be a Tensor of class indices, got str"
    ):
        cross_entropy(Tensor(np.zeros((2, 3))), "ab")


def test_integer_logits_are_a_type_error():
    with pytest.raises(
        TypeError, match=r"^cross_entropy: input must be floating-point, got dtype int64"
    ):
        cross_entropy(Tensor(np.zeros((2, 3), dtype=np.int64)), np.array([0, 1]))
    with pytest.raises(TypeError, match=r"^cross_entropy: input must be a Tensor, got ndarray"):
        cross_entropy(np.zeros((2, 3)), np.array([0, 1]))


@pytest.mark.parametrize(
    ("logits_shape", "target_shape"),
    [
        ((4, 3), (3,)),
        ((4, 3), (4, 1)),
        ((2, 3, 5), (2,)),
        ((2, 3, 5), (3, 2)),
        ((2, 3, 5), (2, 3, 5)),
    ],
)
def test_target_shape_must_be_logits_shape_without_the_last_dim(logits_shape, target_shape):
    message = (
        f"cross_entropy: logits of shape {logits_shape} need a target of shape "
        f"{logits_shape[:-1]} (the classes are the last dim), got target shape {target_shape}"
    )
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        cross_entropy(Tensor(np.zeros(logits_shape)), np.zeros(target_shape, dtype=np.int64))


def test_zero_classes_or_zero_dim_logits_are_value_errors():
    with pytest.raises(ValueError, match=r"C >= 1 classes in the last dim, got shape \(2, 0\)"):
        cross_entropy(Tensor(np.zeros((2, 0))), np.array([0, 0]))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        cross_entropy(Tensor(1.0), np.array(0))


@pytest.mark.parametrize(("bad", "position"), [(5, 2), (-1, 0), (7, 3), (-101, 1)])
def test_target_out_of_range_names_the_value_and_the_class_count(bad, position):
    target = np.array([0, 1, 2, 3])
    target[position] = bad
    message = (
        rf"^cross_entropy: target value {bad} is out of range for 5 classes "
        r"\(expected 0 <= target < 5, or ignore_index=-100\)"
    )
    with pytest.raises(ValueError, match=message):
        cross_entropy(Tensor(np.zeros((4, 5))), target)


def test_out_of_range_next_to_ignored_targets_is_still_found():
    target = np.array([-100, 9, -100])
    with pytest.raises(ValueError, match="target value 9 is out of range for 3 classes"):
        cross_entropy(Tensor(np.zeros((3, 3))), target)


@pytest.mark.parametrize("reduction", ["avg", "Mean", None, ""])
def test_unknown_reduction_is_a_value_error(reduction):
    with pytest.raises(
        ValueError, match=r"^cross_entropy: reduction must be one of \('mean', 'sum', 'none'\), got"
    ):
        cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), reduction=reduction)
    with pytest.raises(ValueError, match=r"^CrossEntropyLoss: reduction must be one of"):
        CrossEntropyLoss(reduction=reduction)


@pytest.mark.parametrize("label_smoothing", [-0.1, 1.5])
def test_label_smoothing_outside_0_1_is_a_value_error(label_smoothing):
    with pytest.raises(
        ValueError,
        match=rf"^cross_entropy: label_smoothing must be in \[0, 1\], got {label_smoothing}",
    ):
        cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), label_smoothing=label_smoothing)
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        CrossEntropyLoss(label_smoothing=label_smoothing)


def test_option_types_are_checked():
    with pytest.raises(TypeError, match=r"^cross_entropy: ignore_index must be an int, got 1.5"):
        CrossEntropyLoss(ignore_index=1.5)
    with pytest.raises(
        TypeError, match=r"^cross_entropy: label_smoothing must be a number, got '0.1'"
    ):
        cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), label_smoothing="0.1")


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), -100)
    with pytest.raises(TypeError):
        CrossEntropyLoss(-100)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda ndim: st.tuples(
            st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim), st.integers(1, 6)
        )
    ),
    st.sampled_from([0.0, 0.1, 0.5]),
    st.sampled_from(["mean", "sum", "none"]),
    st.integers(0, 2**32 - 1),
)
def test_matches_the_reference_on_random_shapes(shapes, label_smoothing, reduction, seed):
    batch, classes = tuple(shapes[0][:-1]), shapes[1]
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(batch + (classes,)) * 5
    target = rng.integers(-1, classes, size=batch)  # -1 is ignored
    options = {"ignore_index": -1, "label_smoothing": label_smoothing, "reduction": reduction}
    out = cross_entropy(f64(logits), target, **options).data
    expected = ref_cross_entropy(logits, target, **options)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14, equal_nan=True)
