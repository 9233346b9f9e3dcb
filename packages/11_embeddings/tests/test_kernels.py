"""The embedding kernel (flat-table scatter-add) against the reference (2-D np.add.at)."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.embeddings import embedding
from gradstack.embeddings.kernels import scatter_add_rows_flat
from gradstack.embeddings.lookup import scatter_add_rows
from gradstack.tensor import KERNELS, Tensor, kernels_enabled, use_references

pytestmark = pytest.mark.skipif(
    not kernels_enabled(), reason="GRADSTACK_KERNELS=0 for this run: there is no kernel to test"
)
RNG = np.random.default_rng(11)


def test_the_embedding_kernel_is_installed():
    assert KERNELS["embedding"].module == "gradstack.embeddings.kernels"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index_shape", [(7,), (3, 5), ()])
def test_lookup_and_gradient_equal_the_reference(dtype, index_shape):
    weight = RNG.standard_normal((6, 4)).astype(dtype)
    indices = RNG.integers(0, 6, size=index_shape)
    upstream = RNG.standard_normal(index_shape + (4,)).astype(dtype)
    results = []
    for references in (False, True):
        table = Tensor(weight, requires_grad=True, dtype=dtype)
        if references:
            with use_references():
                out = embedding(indices, table)
                out.backward(Tensor(upstream, dtype=dtype))
        else:
            out = embedding(indices, table)
            out.backward(Tensor(upstream, dtype=dtype))
        assert out.grad_fn.kernel is (None if references else KERNELS["embedding"])
        results.append((out.data, table.grad.data))
    (out_k, grad_k), (out_r, grad_r) = results
    np.testing.assert_array_equal(out_k, out_r)
    assert grad_k.dtype == grad_r.dtype == dtype
    np.testing.assert_allclose(grad_k, grad_r, rtol=1e-6 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_repeated_and_non_contiguous_rows_add_up_the_same(dtype):
    indices = np.array([[2, 0, 2], [2, 5, 0]])
    wide = RNG.standard_normal((2, 3, 8)).astype(dtype)
    rows = wide[..., ::2]  # (2, 3, 4), a strided view
    assert not rows.flags.c_contiguous
    flat = scatter_add_rows_flat(rows, indices, 6, np.dtype(dtype))
    reference = scatter_add_rows(rows, indices, 6, np.dtype(dtype))
    np.testing.assert_allclose(flat, reference, rtol=1e-6 if dtype == np.float32 else 1e-15)
    np.testing.assert_allclose(reference[2], rows[0, 0] + rows[0, 2] + rows[1, 0], rtol=1e-6)
    np.testing.assert_array_equal(reference[[1, 3, 4]], 0.0)
