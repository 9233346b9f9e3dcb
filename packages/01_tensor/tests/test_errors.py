"""Bad input fails at the call, with the right type and a message naming the op and shapes."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis.extra.numpy import array_shapes

import gradstack.tensor as gt
from gradstack.tensor import Tensor


def t(*shape: int, dtype: str = "float32") -> Tensor:
    """A tensor of ones of the given shape."""
    return Tensor(np.ones(shape), dtype=dtype)


CASES = {
    # arithmetic and comparisons
    "add-broadcast": (
        lambda: t(2, 3) + t(4),
        ValueError,
        "add: shapes (2, 3) and (4,) cannot be broadcast together",
    ),
    "sub-broadcast": (lambda: t(3) - t(2, 2), ValueError, "sub: shapes (3,) and (2, 2) cannot"),
    "mul-broadcast": (lambda: t(2, 3) * np.ones(2), ValueError, "mul: shapes (2, 3) and (2,)"),
    "div-broadcast": (lambda: np.ones(2) / t(3), ValueError, "div: shapes (2,) and (3,)"),
    "pow-broadcast": (lambda: t(5) ** t(4), ValueError, "pow: shapes (5,) and (4,)"),
    "lt-broadcast": (lambda: t(2, 3) < t(2), ValueError, "lt: shapes (2, 3) and (2,)"),
    "eq-broadcast": (lambda: t(2, 3) == t(4, 1, 2), ValueError, "eq: shapes (2, 3) and (4, 1, 2)"),
    "pow-negative-int": (
        lambda: Tensor([1, 2]) ** -1,
        ValueError,
        "pow: (2,) and () (int64, int64): Integers to negative integer powers",
    ),
    "sub-bool": (
        lambda: Tensor([True]) - Tensor([False]),
        TypeError,
        "sub: not supported for dtypes bool and bool",
    ),
    "neg-bool": (
        lambda: -Tensor([True]),
        TypeError,
        "neg: unary minus is not defined for dtype bool",
    ),
    "add-string": (lambda: t(2) + "a", TypeError, "unsupported operand"),
    "matmul-method-list": (
        lambda: t(2).matmul([1.0, 2.0]),
        TypeError,
        "matmul: unsupported operand of type list (expected a Tensor, a number or an ndarray)",
    ),
    "where-string": (
        lambda: gt.where(np.ones(2, dtype=bool), t(2), "a"),
        TypeError,
        "where: unsupported operand of type str",
    ),
    # matmul
    "matmul-inner": (
        lambda: t(2, 3) @ t(4, 5),
        ValueError,
        "matmul: (2, 3) @ (4, 5): inner dimensions 3 and 4 differ",
    ),
    "matmul-vectors": (
        lambda: t(3) @ t(4),
        ValueError,
        "matmul: (3,) @ (4,): inner dimensions 3 and 4 differ",
    ),
    "matmul-vector-matrix": (
        lambda: t(3) @ t(2, 4, 5),
        ValueError,
        "matmul: (3,) @ (2, 4, 5): inner dimensions 3 and 4 differ",
    ),
    "matmul-batch": (
        lambda: t(2, 2, 3) @ t(3, 3, 4),
        ValueError,
        "matmul: (2, 2, 3) @ (3, 3, 4): batch dimensions (2,) and (3,) cannot be broadcast",
    ),
    "matmul-scalar": (
        lambda: t(2, 2) @ 2.0,
        ValueError,
        "matmul: (2, 2) @ (): both operands need at least 1 dim",
    ),
    # reductions
    "sum-dim-range": (
        lambda: t(2, 3).sum(2),
        IndexError,
        "sum: dim 2 is out of range for a tensor of shape (2, 3) (expected a dim in [-2, 1])",
    ),
    "mean-dim-negative": (lambda: t(2, 3).mean(-3), IndexError, "mean: dim -3 is out of range"),
    "mean-dim-repeat": (lambda: t(2, 3).mean((0, -2)), ValueError, "mean: dim (0, -2) repeats"),
    "max-dim-float": (
        lambda: t(2, 3).max(1.0),
        TypeError,
        "max: dim must be an int or a tuple of ints, got float",
    ),
    "sum-dim-str": (lambda: t(2, 3).sum((0, "a")), TypeError, "sum: dim must be an int, got str"),
    "sum-dim-scalar": (lambda: t().sum(0), IndexError, "sum: dim 0 is out of range"),
    "max-empty": (lambda: t(0, 3).max(), ValueError, "max: cannot take the max over no elements"),
    "mean-empty": (lambda: t(0).mean(), ValueError, "mean: cannot take the mean over no elements"),
    "var-too-few": (
        lambda: t(1, 3).var(0),
        ValueError,
        "var: 1 element(s) over dim (0,) of shape (1, 3) with correction 1",
    ),
    "var-correction": (
        lambda: t(3).var(correction=-1),
        ValueError,
        "var: correction must be a non-negative int, got -1",
    ),
    # shape
    "reshape-size": (
        lambda: t(2, 3).reshape(4),
        ValueError,
        "reshape: cannot reshape (2, 3) (6 elements) into (4,)",
    ),
    "reshape-two-unknowns": (lambda: t(2, 3).reshape(-1, -1), ValueError, "reshape: cannot"),
    "reshape-float": (lambda: t(6).reshape(2.0, 3), TypeError, "reshape: sizes must be ints"),
    "transpose-1d": (
        lambda: t(3).transpose(),
        ValueError,
        "transpose: needs at least 2 dims, got shape (3,)",
    ),
    "transpose-range": (lambda: t(2, 3).transpose(0, 2), IndexError, "transpose: dim 2 is out"),
    "T-3d": (lambda: t(2, 3, 4).T, ValueError, "T: expects a 2-D tensor, got shape (2, 3, 4)"),
    "permute-repeat": (
        lambda: t(2, 3).permute(0, 0),
        ValueError,
        "permute: dims (0, 0) are not a permutation of the 2 dims of shape (2, 3)",
    ),
    "permute-short": (lambda: t(2, 3, 4).permute(1, 0), ValueError, "permute: dims (1, 0)"),
    "permute-range": (lambda: t(2, 3).permute(0, 2), IndexError, "permute: dim 2 is out"),
    "unsqueeze-range": (
        lambda: t(2, 3).unsqueeze(3),
        IndexError,
        "unsqueeze: dim 3 is out of range for a tensor of shape (2, 3) (expected a dim in [-3, 2])",
    ),
    "squeeze-range": (lambda: t(2, 1).squeeze(2), IndexError, "squeeze: dim 2 is out of range"),
    "expand-size": (
        lambda: t(3, 2).expand(3, 4),
        ValueError,
        "expand: cannot expand shape (3, 2) to (3, 4)",
    ),
    "expand-fewer-dims": (
        lambda: t(2, 3).expand(3),
        ValueError,
        "expand: cannot expand shape (2, 3) to (3,)",
    ),
    "expand-new-minus-one": (lambda: t(3).expand(-1, 3), ValueError, "expand: cannot expand"),
    # indexing, masked_fill, where
    "getitem-range": (
        lambda: t(2, 3)[5],
        IndexError,
        "getitem: index 5 on shape (2, 3)",
    ),
    "getitem-array-range": (
        lambda: t(2, 3)[:, np.array([0, 7])],
        IndexError,
        "getitem: index (slice(None, None, None), array(shape=(2,), dtype=int64)) on shape (2, 3)",
    ),
    "getitem-float": (lambda: t(2, 3)[0.5], IndexError, "getitem: index 0.5 on shape (2, 3)"),
    "getitem-mask-shape": (
        lambda: t(2, 3)[np.array([True, False, True])],
        IndexError,
        "getitem: index array(shape=(3,), dtype=bool) on shape (2, 3)",
    ),
    "getitem-too-many": (lambda: t(2)[0, 0], IndexError, "getitem: index (0, 0) on shape (2,)"),
    "masked_fill-float-mask": (
        lambda: t(2, 3).masked_fill(t(2, 3), 0.0),
        TypeError,
        "masked_fill: mask must be boolean, got dtype float32",
    ),
    "masked_fill-mask-grows-tensor": (
        lambda: t(2, 3).masked_fill(np.ones((4, 2, 3), dtype=bool), 0.0),
        ValueError,
        "masked_fill: mask of shape (4, 2, 3) would broadcast the tensor of shape (2, 3)",
    ),
    "masked_fill-mask-broadcast": (
        lambda: t(2, 3).masked_fill(np.ones(4, dtype=bool), 0.0),
        ValueError,
        "masked_fill: shapes (2, 3) and (4,) cannot be broadcast together",
    ),
    "masked_fill-tensor-value": (
        lambda: t(2).masked_fill(np.ones(2, dtype=bool), Tensor(1.0)),
        TypeError,
        "masked_fill: value must be a number, got Tensor (use .item()",
    ),
    "masked_fill-truncating-value": (
        lambda: Tensor([1, 2]).masked_fill(np.ones(2, dtype=bool), 2.5),
        ValueError,
        "masked_fill: value 2.5 does not fit the integer tensor of dtype int64",
    ),
    "where-condition-dtype": (
        lambda: gt.where(t(2), t(2), t(2)),
        TypeError,
        "where: condition must be boolean, got dtype float32",
    ),
    "where-broadcast": (
        lambda: gt.where(np.ones(2, dtype=bool), t(3), t(4)),
        ValueError,
        "where: shapes (2,) and (3,) and (4,) cannot be broadcast together",
    ),
    # joining
    "cat-empty": (lambda: gt.cat([]), ValueError, "cat: expects at least one tensor"),
    "cat-not-a-list": (lambda: gt.cat(t(2)), TypeError, "cat: expects a list or tuple of tensors"),
    "cat-element": (
        lambda: gt.cat([t(2), np.ones(2)]),
        TypeError,
        "cat: element 1 is a ndarray, not a Tensor",
    ),
    "cat-shapes": (
        lambda: gt.cat([t(2, 3), t(3, 3)], dim=1),
        ValueError,
        "cat: tensor 0 has shape (2, 3) but tensor 1 has shape (3, 3) (they differ in dim 0)",
    ),
    "cat-ndim": (lambda: gt.cat([t(2, 3), t(3)]), ValueError, "cat: tensor 0 has shape (2, 3) but"),
    "cat-dim": (lambda: gt.cat([t(2), t(2)], dim=1), IndexError, "cat: dim 1 is out of range"),
    "stack-shapes": (
        lambda: gt.stack([t(2, 3), t(2, 3), t(3, 2)]),
        ValueError,
        "stack: tensor 0 has shape (2, 3) but tensor 2 has shape (3, 2)",
    ),
    "stack-dim": (lambda: gt.stack([t(2), t(2)], dim=2), IndexError, "stack: dim 2 is out"),
    "split-sections": (
        lambda: t(3, 2).split([1, 1]),
        ValueError,
        "split: sections [1, 1] must be non-negative and sum to 3, "
        "the size of dim 0 of shape (3, 2)",
    ),
    "split-negative-section": (lambda: t(3).split([4, -1]), ValueError, "split: sections [4, -1]"),
    "split-zero-size": (lambda: t(3).split(0), ValueError, "split: split size must be positive"),
    "split-float": (lambda: t(3).split(1.5), TypeError, "split: split_size_or_sections must be"),
    "split-dim": (lambda: gt.split(t(3), 1, dim=1), IndexError, "split: dim 1 is out of range"),
    # creation and conversion
    "tensor-strings": (lambda: Tensor(["a", "b"]), TypeError, "Tensor: unsupported data of dtype"),
    "tensor-none": (lambda: Tensor(None), TypeError, "Tensor: unsupported data of dtype object"),
    "tensor-ragged": (lambda: Tensor([[1, 2], [3]]), ValueError, "Tensor: data is not rectangular"),
    "tensor-of-tensors": (
        lambda: Tensor([t(2), t(2)]),
        TypeError,
        "use gradstack.tensor.stack or cat",
    ),
    "tensor-bad-dtype": (
        lambda: Tensor([1.0], dtype="nope"),
        TypeError,
        "Tensor: cannot convert data to dtype nope",
    ),
    "tensor-function-ragged": (lambda: gt.tensor([[1], [2, 3]]), ValueError, "tensor: data is not"),
    "zeros-negative": (lambda: gt.zeros(2, -1), ValueError, "zeros: sizes must be non-negative"),
    "ones-float": (lambda: gt.ones(2.5), TypeError, "ones: sizes must be ints, got (2.5,)"),
    "randn-negative": (lambda: gt.randn(-3), ValueError, "randn: sizes must be non-negative"),
    "zeros-dtype": (lambda: gt.zeros(2, dtype="nope"), TypeError, "zeros: 'nope' is not a dtype"),
    "randn-int": (lambda: gt.randn(2, dtype="int64"), TypeError, "randn: dtype must be floating"),
    "rand-int": (lambda: gt.rand(2, dtype=int), TypeError, "rand: dtype must be floating"),
    "zeros_like-array": (
        lambda: gt.zeros_like(np.ones(2)),
        TypeError,
        "zeros_like: expects a Tensor, got ndarray",
    ),
    "arange-step": (lambda: gt.arange(0, 5, 0), ValueError, "arange: step must not be zero"),
    "arange-type": (lambda: gt.arange("5"), TypeError, "arange: end must be a number, got str"),
    "seed-negative": (lambda: gt.manual_seed(-1), ValueError, "manual_seed: seed must be"),
    "seed-float": (lambda: gt.manual_seed(1.5), ValueError, "manual_seed: seed must be"),
    # the tensor object
    "item-many": (
        lambda: t(2).item(),
        ValueError,
        "item: needs a tensor with one element, got shape (2,)",
    ),
    "bool-many": (lambda: bool(t(2, 2)), ValueError, "of a tensor of shape (2, 2) is ambiguous"),
    "len-scalar": (lambda: len(t()), TypeError, "len() of a 0-d tensor"),
    "iter-scalar": (lambda: list(t()), TypeError, "iteration over a 0-d tensor"),
    "size-dim": (lambda: t(2).size(1), IndexError, "size: dim 1 is out of range"),
    "clip-no-bounds": (lambda: t(2).clip(), ValueError, "clip: at least one of min and max"),
    "clip-order": (
        lambda: t(2).clip(1.0, 0.0),
        ValueError,
        "clip: min 1.0 is greater than max 0.0",
    ),
    "clip-tensor-bound": (lambda: t(2).clip(min=t(2)), TypeError, "clip: min must be a number"),
    "astype-dtype": (lambda: t(2).astype("nope"), TypeError, "astype: 'nope' is not a dtype"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_raises_a_clear_error(name):
    call, error, message = CASES[name]
    with pytest.raises(error, match=re.escape(message)):
        call()


# -- broadcasting errors agree with NumPy, for any shapes -----------------------------------

SHAPES = array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)


def broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Whether NumPy broadcasts the two shapes."""
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


@settings(max_examples=80, deadline=None)
@given(shape_a=SHAPES, shape_b=SHAPES)
def test_binary_ops_reject_exactly_what_numpy_rejects(shape_a, shape_b):
    a, b = t(*shape_a), t(*shape_b)
    if broadcasts(shape_a, shape_b):
        assert (a + b).shape == np.broadcast_shapes(shape_a, shape_b)
        return
    for op, name in ((a.__add__, "add"), (a.__mul__, "mul"), (a.__gt__, "gt")):
        with pytest.raises(ValueError, match=re.escape(f"{name}: shapes {shape_a} and {shape_b}")):
            op(b)


@settings(max_examples=80, deadline=None)
@given(shape_a=SHAPES, shape_b=SHAPES)
def test_matmul_rejects_exactly_what_numpy_rejects(shape_a, shape_b):
    assume(shape_a and shape_b)
    a, b = np.ones(shape_a, dtype=np.float32), np.ones(shape_b, dtype=np.float32)
    try:
        expected = np.matmul(a, b)
    except ValueError:
        with pytest.raises(ValueError, match=re.escape(f"matmul: {shape_a} @ {shape_b}: ")):
            Tensor(a) @ Tensor(b)
        return
    assert (Tensor(a) @ Tensor(b)).shape == expected.shape


@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, target=SHAPES)
def test_expand_rejects_exactly_what_broadcast_to_rejects(shape, target):
    source = t(*shape)
    try:
        expected = np.broadcast_to(source.data, target)
    except ValueError:
        with pytest.raises(ValueError, match=re.escape(f"expand: cannot expand shape {shape}")):
            source.expand(*target)
        return
    assert source.expand(*target).shape == expected.shape
