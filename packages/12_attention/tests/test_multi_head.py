"""MultiHeadAttention: values against NumPy, gradients of all projections, dropout, errors."""

import numpy as np
import pytest

from gradstack.attention import MultiHeadAttention
from gradstack.autograd import gradcheck
from gradstack.tensor import Tensor, manual_seed

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "out_proj")


def _numpy_mha(layer, x, allowed, ref):
    """The layer's computation in float64 NumPy, from its weights."""
    batch, length, dim = x.shape
    heads = layer.num_heads

    def project(name, inp):
        proj = getattr(layer, name)
        out = inp @ proj.weight.data.T.astype(np.float64)
        return out + proj.bias.data if proj.bias is not None else out

    def split(a):
        return a.reshape(batch, length, heads, dim // heads).transpose(0, 2, 1, 3)

    q, k, v = (split(project(n, x)) for n in PROJECTIONS[:3])
    y = ref.attention(q, k, v, allowed)[0]
    return project("out_proj", y.transpose(0, 2, 1, 3).reshape(batch, length, dim))


def _input(shape=(2, 5, 8), dtype=None, seed=0, requires_grad=False):
    data = np.random.default_rng(seed).standard_normal(shape)
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def test_parameters_are_the_four_projections():
    layer = MultiHeadAttention(8, 2)
    names = [name for name, _ in layer.named_parameters()]
    assert names == [f"{p}.{w}" for p in PROJECTIONS for w in ("weight", "bias")]
    assert all(getattr(layer, p).weight.shape == (8, 8) for p in PROJECTIONS)
    assert layer.head_dim == 4
    no_bias = MultiHeadAttention(8, 2, bias=False)
    assert [n for n, _ in no_bias.named_parameters()] == [f"{p}.weight" for p in PROJECTIONS]


@pytest.mark.parametrize("is_causal", [False, True])
def test_forward_matches_numpy(ref, is_causal):
    layer = MultiHeadAttention(8, 2)
    x = _input()
    allowed = np.tri(5, dtype=bool) if is_causal else None
    out = layer(x, is_causal=is_causal)
    assert out.shape == (2, 5, 8)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, _numpy_mha(layer, x.data, allowed, ref), atol=1e-5)


def test_forward_with_a_padding_mask(ref):
    layer = MultiHeadAttention(6, 3, bias=False)
    x = _input((2, 4, 6))
    mask = np.ones((2, 1, 1, 4), dtype=bool)
    mask[1, ..., 3] = False  # the last position of sequence 1 is padding
    out = layer(x, mask=mask)
    np.testing.assert_allclose(out.data, _numpy_mha(layer, x.data, mask, ref), atol=1e-5)


@pytest.mark.parametrize("bias", [True, False])
def test_gradcheck_all_projections_and_the_input(bias):
    layer = MultiHeadAttention(6, 2, bias=bias).double()
    params = list(layer.parameters())
    assert len(params) == (8 if bias else 4)
    x = _input((2, 4, 6), dtype="float64", requires_grad=True)
    assert gradcheck(lambda x, *ps: layer(x, is_causal=True), [x, *params])


def test_gradcheck_with_dropout_in_training_mode():
    layer = MultiHeadAttention(4, 2, dropout=0.2).double()
    x = _input((2, 3, 4), dtype="float64", requires_grad=True)

    def fn(x, *params):
        manual_seed(5)
        return layer(x, is_causal=True)

    assert gradcheck(fn, [x, *layer.parameters()])


def test_every_projection_gets_a_nonzero_gradient():
    layer = MultiHeadAttention(8, 4)
    layer(_input(), is_causal=True).sum().backward()
    for name, param in layer.named_parameters():
        assert param.grad is not None, name
        assert param.grad.shape == param.shape
        assert np.abs(param.grad.data).sum() > 0, name


def test_dropout_only_in_training_mode():
    layer = MultiHeadAttention(8, 2, dropout=0.5)
    x = _input((4, 6, 8))
    reference = MultiHeadAttention(8, 2)
    reference.load_state_dict(layer.state_dict())
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, reference(x).data)
    layer.train()
    manual_seed(1)
    dropped = layer(x).data
    assert abs((dropped == 0).mean() - 0.5) < 0.1  # resid dropout zeros whole elements
    manual_seed(1)
    np.testing.assert_array_equal(layer(x).data, dropped)


def test_errors():
    with pytest.raises(ValueError, match="embed_dim 10 is not divisible by num_heads 4"):
        MultiHeadAttention(10, 4)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 1.0"):
        MultiHeadAttention(8, 2, dropout=1.0)
    with pytest.raises(TypeError, match="num_heads must be an int"):
        MultiHeadAttention(8, 2.0)
    layer = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"input must be \(B, T, 8\), got shape \(2, 5, 6\)"):
        layer(_input((2, 5, 6)))
    with pytest.raises(ValueError, match=r"mask of shape \(4, 4\) does not broadcast"):
        layer(_input(), mask=np.ones((4, 4), dtype=bool))
