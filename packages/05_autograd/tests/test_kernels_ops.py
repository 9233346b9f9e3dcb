"""Kernels of modules 02-04 (GELU, linear, cross-entropy) against their references.

Each case runs the same computation twice, kernels on and inside ``use_references()``,
and compares the output and the gradient of every input: float32 and float64,
broadcast batch dims, non-contiguous inputs (transposed views, strided slices), and
for cross-entropy every reduction with label smoothing and ignored targets.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradstack.activations
import gradstack.layers
import gradstack.losses
from gradstack.activations import gelu
from gradstack.layers import linear
from gradstack.losses import cross_entropy
from gradstack.tensor import CACHE_BLOCK, KERNELS, Tensor, kernels_enabled, use_references

# Kernel against reference needs the kernels on: GRADSTACK_KERNELS=0 runs references only.
pytestmark = pytest.mark.skipif(
    not kernels_enabled(), reason="GRADSTACK_KERNELS=0 for this run: there is no kernel to test"
)
RNG = np.random.default_rng(12)
# float32: the kernels reorder a few roundings; float64 shows they compute the same thing.
TOLERANCE = {np.float32: {"rtol": 2e-5, "atol": 2e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-13}}
DTYPES = [np.float32, np.float64]


def non_contiguous(array: np.ndarray) -> np.ndarray:
    """The same values as a strided view: every other element of a twice-as-wide array."""
    wide = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), dtype=array.dtype)
    wide[..., ::2] = array
    view = wide[..., ::2]
    assert not view.flags.c_contiguous
    return view


def both_ways(fn, arrays: list[np.ndarray], upstream: np.ndarray | None = None):
    """(output, input gradients) with kernels on, then with references only."""
    results = []
    for references in (False, True):
        leaves = [Tensor(a, requires_grad=True, dtype=a.dtype) for a in arrays]
        if references:
            with use_references():
                out = fn(*leaves)
                out.backward(None if upstream is None else Tensor(upstream, dtype=out.dtype))
        else:
            out = fn(*leaves)
            out.backward(None if upstream is None else Tensor(upstream, dtype=out.dtype))
        results.append((out.data, [leaf.grad.data for leaf in leaves]))
    return results


def assert_same(kernel, reference, dtype) -> None:
    (out_k, grads_k), (out_r, grads_r) = kernel, reference
    assert out_k.dtype == out_r.dtype == dtype
    np.testing.assert_allclose(out_k, out_r, **TOLERANCE[dtype])
    for gk, gr in zip(grads_k, grads_r):
        assert gk.dtype == gr.dtype == dtype and gk.shape == gr.shape
        np.testing.assert_allclose(gk, gr, **TOLERANCE[dtype])


def test_the_kernels_of_these_modules_are_installed():
    assert KERNELS["gelu"].module == "gradstack.activations.kernels"
    assert KERNELS["linear"].module == "gradstack.layers.kernels"
    assert KERNELS["cross_entropy"].module == "gradstack.losses.kernels"


# -- GELU -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approximate", ["tanh", "none"])
@pytest.mark.parametrize("contiguous", [True, False])
def test_gelu_kernel_equals_reference(dtype, approximate, contiguous):
    x = (RNG.standard_normal((3, 5, 8)) * 4).astype(dtype)
    x[0, 0, :4] = [0.0, 9.99, -10.5, 40.0]  # at and beyond the saturation point
    if not contiguous:
        x = non_contiguous(x)
    upstream = RNG.standard_normal(x.shape).astype(dtype)
    kernel, reference = both_ways(lambda t: gelu(t, approximate=approximate), [x], upstream)
    assert_same(kernel, reference, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approximate", ["tanh", "none"])
def test_gelu_kernel_and_reference_agree_at_huge_inputs_without_warnings(dtype, approximate):
    big = np.finfo(dtype).max
    x = np.array([-big, -1e20, -1e4, 1e4, 1e20, big], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        kernel, reference = both_ways(
            lambda t: gelu(t, approximate=approximate), [x], np.ones_like(x)
        )
    assert_same(kernel, reference, dtype)
    np.testing.assert_array_equal(reference[0], np.where(x > 0, x, 0))


@pytest.mark.parametrize("approximate", ["tanh", "none"])
def test_gelu_kernel_equals_reference_across_cache_blocks(approximate):
    size = 2 * CACHE_BLOCK + 37  # two whole blocks and a short one, in rows that straddle them
    x = (RNG.standard_normal((size // 7 + 1, 7)) * 4).astype(np.float32)
    x[-1, -3:] = [0.0, -12.0, 1e30]
    upstream = RNG.standard_normal(x.shape).astype(np.float32)
    kernel, reference = both_ways(lambda t: gelu(t, approximate=approximate), [x], upstream)
    assert_same(kernel, reference, np.float32)


def test_gelu_kernel_equals_reference_on_a_0d_input():
    kernel, reference = both_ways(lambda t: gelu(t), [np.array(0.7)])
    assert_same(kernel, reference, np.float64)


# -- linear ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [(), (5,), (2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_kernel_equals_reference(dtype, batch, bias):
    x = RNG.standard_normal(batch + (6,)).astype(dtype)
    weight = RNG.standard_normal((4, 6)).astype(dtype)
    arrays = [x, weight] + ([RNG.standard_normal(4).astype(dtype)] if bias else [])
    upstream = RNG.standard_normal(batch + (4,)).astype(dtype)
    kernel, reference = both_ways(lambda *t: linear(*t), arrays, upstream)
    assert_same(kernel, reference, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_kernel_equals_reference_on_non_contiguous_inputs(dtype):
    x = non_contiguous(RNG.standard_normal((2, 3, 6)).astype(dtype))
    weight = RNG.standard_normal((6, 4)).astype(dtype).T  # a transposed view (4, 6)
    bias = non_contiguous(RNG.standard_normal(4).astype(dtype))
    upstream = RNG.standard_normal((2, 3, 4)).astype(dtype)
    kernel, reference = both_ways(lambda *t: linear(*t), [x, weight, bias], upstream)
    assert_same(kernel, reference, dtype)


# -- cross-entropy --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_kernel_equals_reference(dtype, reduction, label_smoothing, ignore):
    logits = (RNG.standard_normal((2, 5, 7)) * 3).astype(dtype)
    logits[0, 0, 0] = 80.0  # a large logit: the max must be subtracted
    target = RNG.integers(0, 7, size=(2, 5))
    if ignore:
        target[1, :2] = -100
    upstream = None if reduction != "none" else RNG.standard_normal((2, 5)).astype(dtype)
    kernel, reference = both_ways(
        lambda t: cross_entropy(t, target, label_smoothing=label_smoothing, reduction=reduction),
        [logits],
        upstream,
    )
    assert_same(kernel, reference, dtype)
    if ignore:
        np.testing.assert_array_equal(kernel[1][0][1, :2], 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_kernel_equals_reference_on_non_contiguous_logits(dtype):
    logits = non_contiguous(RNG.standard_normal((6, 5)).astype(dtype))
    target = RNG.integers(0, 5, size=6)
    kernel, reference = both_ways(lambda t: cross_entropy(t, target), [logits])
    assert_same(kernel, reference, dtype)


def test_cross_entropy_kernel_and_reference_agree_when_every_target_is_ignored():
    logits = RNG.standard_normal((3, 4))
    target = np.full(3, -100)
    kernel, reference = both_ways(lambda t: cross_entropy(t, target), [logits])
    assert np.isnan(kernel[0]) and np.isnan(reference[0])
    np.testing.assert_array_equal(kernel[1][0], reference[1][0])


def test_module_imports_installed_the_kernels_at_package_import():
    for package in (gradstack.activations, gradstack.layers, gradstack.losses):
        assert package.kernels.__name__ == f"{package.__name__}.kernels"
