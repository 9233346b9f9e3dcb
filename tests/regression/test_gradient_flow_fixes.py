"""The course's gradient-flow regression tests: each bug once fixed, now checked by value.

Tests 5 (LayerNorm) and 6 (Embedding) test layers of later modules; they arrived with
modules 13 (gradstack.transformer) and 11 (gradstack.embeddings).

Run with pytest, or directly: ``python tests/regression/test_gradient_flow_fixes.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.autograd import gradcheck
from gradstack.embeddings import Embedding
from gradstack.layers import Dropout
from gradstack.tensor import Tensor, manual_seed
from gradstack.transformer import LayerNorm


def random(*shape: int, seed: int = 0, dtype: str = "float32") -> np.ndarray:
    """Reproducible standard-normal data."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_1_batched_3d_matmul_uses_matmul_not_dot():
    q = Tensor(random(2, 4, 8, seed=1), requires_grad=True)
    k = Tensor(random(2, 4, 8, seed=2), requires_grad=True)
    scores = q @ k.transpose(-2, -1)  # (2, 4, 8) @ (2, 8, 4) -> (2, 4, 4)
    assert scores.shape == (2, 4, 4)  # np.dot would give (2, 4, 2, 4)
    expected = np.matmul(q.data, np.swapaxes(k.data, -1, -2))
    np.testing.assert_allclose(scores.data, expected, rtol=1e-6)
    for batch in range(2):  # each batch is its own product, no mixing across batches
        np.testing.assert_allclose(scores.data[batch], q.data[batch] @ k.data[batch].T, rtol=1e-5)


def test_2_transpose_preserves_requires_grad():
    x = Tensor(random(3, 4), requires_grad=True)
    assert x.transpose(0, 1).requires_grad
    assert x.T.requires_grad
    assert x.permute(1, 0).requires_grad
    weights = random(4, 3, seed=5)
    (x.T * Tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, weights.T)


def test_3_subtraction_has_a_backward():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = Tensor([[0.5, 0.5], [0.5, 0.5]], requires_grad=True)
    out = a - b
    assert out.grad_fn.name() == "SubBackward"
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.ones((2, 2)))
    np.testing.assert_array_equal(b.grad.data, -np.ones((2, 2)))
    row = Tensor([1.0, 2.0], requires_grad=True)
    (a - row).sum().backward()  # broadcast: the row was subtracted from both rows
    np.testing.assert_array_equal(row.grad.data, [-2.0, -2.0])


def test_4_division_has_a_backward():
    a = Tensor([[1.0, -2.0], [3.0, 4.0]], dtype="float64", requires_grad=True)
    b = Tensor([[2.0, 4.0], [-0.5, 8.0]], dtype="float64", requires_grad=True)
    out = a / b
    assert out.grad_fn.name() == "DivBackward"
    out.sum().backward()
    np.testing.assert_allclose(a.grad.data, 1.0 / b.data, rtol=1e-15)
    np.testing.assert_allclose(b.grad.data, -a.data / b.data**2, rtol=1e-15)
    assert b.grad.data.tolist() == [[-0.25, 0.125], [-12.0, -0.0625]]
    assert gradcheck(lambda x, y: x / y, [Tensor(a.data, dtype="float64", requires_grad=True), b])


def test_5_layer_norm_gradients_match_finite_differences():
    norm = LayerNorm(6).double()
    norm.gamma.data[...] = random(6, seed=51, dtype="float64")
    norm.beta.data[...] = random(6, seed=52, dtype="float64")
    x_data = random(2, 3, 6, seed=53, dtype="float64") * 3 + 1
    x = Tensor(x_data, dtype="float64", requires_grad=True)
    out = norm(x)
    assert out.grad_fn.name() == "LayerNormBackward"  # one fused op, not ten small ones
    g = random(2, 3, 6, seed=54, dtype="float64")
    out.backward(g)
    centred = x_data - x_data.mean(-1, keepdims=True)
    xhat = centred / np.sqrt(x_data.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(norm.beta.grad.data, g.sum(axis=(0, 1)), rtol=1e-12)
    np.testing.assert_allclose(norm.gamma.grad.data, (g * xhat).sum(axis=(0, 1)), rtol=1e-10)
    eps = 1e-6
    for index in [(0, 0, 0), (1, 2, 5), (0, 1, 3)]:  # x by central differences, by hand
        bumped = x.data.copy()
        bumped[index] += eps
        plus = np.sum(norm(Tensor(bumped, dtype="float64")).data * g)
        bumped[index] -= 2 * eps
        minus = np.sum(norm(Tensor(bumped, dtype="float64")).data * g)
        np.testing.assert_allclose(x.grad.data[index], (plus - minus) / (2 * eps), rtol=1e-6)
    x64 = Tensor(x_data, dtype="float64", requires_grad=True)
    assert gradcheck(lambda x, gamma, beta: norm(x), [x64, norm.gamma, norm.beta])


def test_6_embedding_preserves_requires_grad_and_scatter_adds():
    manual_seed(6)
    table = Embedding(5, 3)
    indices = np.array([[0, 2, 2], [4, 2, 0]])  # 2 three times, 0 twice, 1 and 3 never
    out = table(indices)
    assert out.shape == (2, 3, 3)
    assert out.requires_grad and out.grad_fn.name() == "EmbeddingBackward"
    np.testing.assert_array_equal(out.data, table.weight.data[indices])
    g = random(2, 3, 3, seed=61)
    out.backward(g)
    expected = np.zeros((5, 3), dtype=np.float32)
    np.add.at(expected, indices, g)  # the scatter-add: repeated rows sum their gradients
    np.testing.assert_allclose(table.weight.grad.data, expected, rtol=1e-6)
    np.testing.assert_allclose(table.weight.grad.data[2], g[0, 1] + g[0, 2] + g[1, 1], rtol=1e-6)
    np.testing.assert_array_equal(table.weight.grad.data[[1, 3]], 0.0)
    table.double()
    assert gradcheck(lambda weight: table(indices), [table.weight])


def test_7_dropout_uses_tensor_operations():
    manual_seed(7)
    p = 0.25
    layer = Dropout(p)
    layer.train()
    x = Tensor(random(4, 64, seed=3), requires_grad=True)
    out = layer(x)
    assert out.grad_fn is not None  # gradients flow through tensor ops, not around them
    kept = out.data != 0
    assert 0 < kept.mean() < 1
    out.backward(np.ones(out.shape, dtype=np.float32))
    expected = kept.astype(np.float32) / np.float32(1 - p)  # mask / (1 - p), exactly
    np.testing.assert_array_equal(x.grad.data, expected)
    np.testing.assert_array_equal(out.data, x.data * expected)
    layer.eval()
    x.grad = None
    evaluated = layer(x)
    np.testing.assert_array_equal(evaluated.data, x.data)
    (evaluated * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full(x.shape, 2.0, dtype=np.float32))


def test_8_transpose_has_a_backward():
    q = Tensor(random(2, 4, 8, 64, seed=11), requires_grad=True)
    k = Tensor(random(2, 4, 8, 64, seed=12), requires_grad=True)
    k_t = k.transpose(-2, -1)
    assert k_t.grad_fn.name() == "TransposeBackward"
    scores = q @ k_t  # (2, 4, 8, 64) @ (2, 4, 64, 8) -> (2, 4, 8, 8)
    g = random(2, 4, 8, 8, seed=13)
    scores.backward(g)
    assert k.grad.shape == k.shape == (2, 4, 8, 64)
    np.testing.assert_allclose(k.grad.data, np.swapaxes(g, -1, -2) @ q.data, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(q.grad.data, g @ k.data, rtol=1e-4, atol=1e-5)


def test_9_matmul_backward_uses_batched_operations():
    a = Tensor(random(2, 4, 8, seed=21), requires_grad=True)
    b = Tensor(random(2, 8, 4, seed=22), requires_grad=True)
    out = a @ b
    assert out.grad_fn.name() == "MatmulBackward"
    g = random(2, 4, 4, seed=23)
    out.backward(g)
    expected_a = np.einsum("bij,bkj->bik", g, b.data)  # g @ bᵀ per batch
    expected_b = np.einsum("bki,bkj->bij", a.data, g)  # aᵀ @ g per batch
    assert a.grad.shape == (2, 4, 8) and b.grad.shape == (2, 8, 4)
    np.testing.assert_allclose(a.grad.data, expected_a, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b.grad.data, expected_b, rtol=1e-4, atol=1e-5)
    a64 = Tensor(a.data, dtype="float64", requires_grad=True)
    b64 = Tensor(b.data, dtype="float64", requires_grad=True)
    assert gradcheck(lambda x, y: x @ y, [a64, b64])


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-v"]))
