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
from gradstack.losses import cross_entropy
from gradstack.tensor import Tensor, manual_seed, no_grad
from gradstack.tokenization import BPETokenizer, CharTokenizer
from gradstack.transformer import GPT, MLP, LayerNorm, TransformerBlock


def normal64(*shape: int, seed: int) -> np.ndarray:
    """Reproducible float64 standard-normal data (tests 6-9)."""
    return np.random.default_rng(seed).standard_normal(shape)


def test_01_tokenization_round_trip():
    text = "Hello World"
    char = CharTokenizer().train(text)
    ids = char.encode(text)
    assert len(ids) == 11 and char.vocab_size == 8  # H e l o ' ' W r d
    assert ids[2] == ids[3] == ids[9]  # the three l's share one id
    assert char.decode(ids) == text
    bpe = BPETokenizer().train("Hello World! " * 20, vocab_size=260)
    assert bpe.vocab_size == 260  # 256 bytes + 4 merges
    bpe_ids = bpe.encode(text)
    assert all(isinstance(i, int) and 0 <= i < 260 for i in bpe_ids)
    assert len(bpe_ids) < len(text.encode("utf-8"))  # merges shorten the sequence
    assert bpe.decode(bpe_ids) == text


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


def test_06_layer_norm_gradients():
    norm = LayerNorm(8).double()
    norm.gamma.data[...] = normal64(8, seed=61) + 1
    norm.beta.data[...] = normal64(8, seed=62)
    x = Tensor(normal64(3, 4, 8, seed=63) * 2 - 1, dtype="float64", requires_grad=True)
    out = norm(x)
    assert out.grad_fn.name() == "LayerNormBackward"
    g = normal64(3, 4, 8, seed=64)
    out.backward(g)
    mean = x.data.mean(axis=-1, keepdims=True)
    rstd = 1 / np.sqrt(x.data.var(axis=-1, keepdims=True) + 1e-5)
    xhat = (x.data - mean) * rstd
    g_xhat = g * norm.gamma.data
    expected_x = rstd * (
        g_xhat - g_xhat.mean(-1, keepdims=True) - xhat * (g_xhat * xhat).mean(-1, keepdims=True)
    )
    np.testing.assert_allclose(x.grad.data, expected_x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(norm.gamma.grad.data, (g * xhat).sum(axis=(0, 1)), rtol=1e-10)
    np.testing.assert_allclose(norm.beta.grad.data, g.sum(axis=(0, 1)), rtol=1e-12)
    x64 = Tensor(x.data, dtype="float64", requires_grad=True)
    assert gradcheck(lambda x, gamma, beta: norm(x), [x64, norm.gamma, norm.beta])


def gelu_tanh_and_slope(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GELU (tanh approximation) and its derivative, by hand."""
    c = np.sqrt(2 / np.pi)
    t = np.tanh(c * (h + 0.044715 * h**3))
    value = 0.5 * h * (1 + t)
    slope = 0.5 * (1 + t) + 0.5 * h * (1 - t * t) * c * (1 + 3 * 0.044715 * h * h)
    return value, slope


def test_07_mlp_gradients_of_both_layers():
    manual_seed(7)
    mlp = MLP(6, 10).double()
    rng = np.random.default_rng(70)
    for parameter in mlp.parameters():  # biases non-zero, weights of order one
        parameter.data[...] = rng.standard_normal(parameter.shape) * 0.5
    x = normal64(2, 5, 6, seed=71)
    g = normal64(2, 5, 6, seed=72)
    mlp(Tensor(x, dtype="float64")).backward(g)
    w1, b1 = mlp.linear1.weight.data, mlp.linear1.bias.data
    w2 = mlp.linear2.weight.data
    h = x @ w1.T + b1  # (2, 5, 10)
    a, slope = gelu_tanh_and_slope(h)
    dh = (g @ w2) * slope  # back through linear2, then GELU
    expected = {
        "linear2.weight": np.einsum("bto,bth->oh", g, a),
        "linear2.bias": g.sum(axis=(0, 1)),
        "linear1.weight": np.einsum("bth,bti->hi", dh, x),
        "linear1.bias": dh.sum(axis=(0, 1)),
    }
    for name, parameter in mlp.named_parameters():
        np.testing.assert_allclose(parameter.grad.data, expected[name], rtol=1e-9, err_msg=name)
    xt = Tensor(x, dtype="float64", requires_grad=True)
    assert gradcheck(lambda x, *params: mlp(x), [xt, *mlp.parameters()])


def test_08_transformer_block_all_sixteen_parameters():
    manual_seed(8)
    block = TransformerBlock(8, 2, mlp_ratio=2).double()
    rng = np.random.default_rng(80)
    for parameter in block.parameters():  # random LayerNorms and biases too
        parameter.data[...] = rng.standard_normal(parameter.shape) * 0.5
    x = Tensor(normal64(2, 3, 8, seed=81), dtype="float64", requires_grad=True)
    (block(x) * Tensor(normal64(2, 3, 8, seed=82), dtype="float64")).sum().backward()
    named = dict(block.named_parameters())
    assert len(named) == 16
    for name, parameter in named.items():
        assert parameter.grad is not None and np.abs(parameter.grad.data).max() > 0, name
    assert gradcheck(lambda x, *params: block(x), [x, *named.values()])


def test_09_gpt_all_37_parameters_match_finite_differences():
    manual_seed(9)
    model = GPT(20, 16, 2, 4).double()
    rng = np.random.default_rng(9)
    for parameter in model.parameters():
        parameter.data += rng.standard_normal(parameter.shape) * 0.1
    tokens = rng.integers(0, 20, size=(2, 8))
    targets = rng.integers(0, 20, size=(2, 8))

    def loss() -> Tensor:
        return cross_entropy(model(tokens), targets)

    loss().backward()
    named = dict(model.named_parameters())
    assert len(named) == 37
    for name, parameter in named.items():
        assert np.abs(parameter.grad.data).max() > 0, name
    eps = 1e-6
    for name, parameter in named.items():
        flat = parameter.data.reshape(-1)  # a view: writes reach the parameter
        largest = np.argmax(np.abs(parameter.grad.data.reshape(-1)))
        for i in [largest, *rng.choice(flat.size, size=min(4, flat.size), replace=False)]:
            original = flat[i]
            flat[i] = original + eps
            with no_grad():
                plus = loss().item()
            flat[i] = original - eps
            with no_grad():
                minus = loss().item()
            flat[i] = original
            numeric = (plus - minus) / (2 * eps)
            analytic = parameter.grad.data.reshape(-1)[i]
            assert abs(analytic - numeric) <= 1e-7 + 1e-4 * abs(numeric), (name, i)


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-v"]))
