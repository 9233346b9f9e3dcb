"""Comparisons with PyTorch (skipped where torch is not installed)."""

import numpy as np
import pytest

from gradstack.attention import MultiHeadAttention, scaled_dot_product_attention
from gradstack.tensor import Tensor

pytestmark = pytest.mark.torch


def _pair(shape, seed):
    """The same float64 data as a gradstack Tensor and a torch tensor, both requiring grad."""
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(seed).standard_normal(shape)
    return (
        Tensor(data, dtype="float64", requires_grad=True),
        torch.tensor(data, dtype=torch.float64, requires_grad=True),
    )


@pytest.mark.parametrize("mask_shape", [None, (4, 6), (2, 1, 4, 6)])
def test_sdpa_matches_torch_with_a_bool_mask(mask_shape):
    torch = pytest.importorskip("torch")
    ours, theirs = zip(
        *(_pair(s, i) for i, s in enumerate([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)]))
    )
    mask = None
    if mask_shape is not None:
        mask = np.random.default_rng(9).random(mask_shape) < 0.7
        mask[..., 0] = True  # torch gives NaN for rows with nothing to attend to
    out = scaled_dot_product_attention(*ours, mask=mask)
    expected = torch.nn.functional.scaled_dot_product_attention(
        *theirs, attn_mask=None if mask is None else torch.from_numpy(mask)
    )
    upstream = np.random.default_rng(4).standard_normal(out.shape)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), atol=1e-12)


def test_sdpa_causal_square_matches_torch_is_causal():
    torch = pytest.importorskip("torch")
    ours, theirs = zip(*(_pair((2, 2, 5, 4), i) for i in range(3)))
    out = scaled_dot_product_attention(*ours, is_causal=True)
    expected = torch.nn.functional.scaled_dot_product_attention(*theirs, is_causal=True)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), atol=1e-12)


def test_sdpa_causal_lq_ne_lk_is_bottom_right_where_torch_is_top_left():
    torch = pytest.importorskip("torch")
    ours, theirs = zip(*(_pair(s, i) for i, s in enumerate([(2, 3, 4), (2, 6, 4), (2, 6, 4)])))
    out = scaled_dot_product_attention(*ours, is_causal=True)
    bottom_right = torch.ones(3, 6, dtype=torch.bool).tril(diagonal=6 - 3)
    expected = torch.nn.functional.scaled_dot_product_attention(*theirs, attn_mask=bottom_right)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=1e-12)
    top_left = torch.nn.functional.scaled_dot_product_attention(*theirs, is_causal=True)
    assert not np.allclose(out.data, top_left.detach().numpy())


def _copy_into_torch_mha(layer, torch):
    """A torch.nn.MultiheadAttention holding the same weights as ``layer``."""
    dim = layer.embed_dim
    module = torch.nn.MultiheadAttention(dim, layer.num_heads, batch_first=True).double()
    with torch.no_grad():
        weights = [getattr(layer, p).weight.data for p in ("q_proj", "k_proj", "v_proj")]
        biases = [getattr(layer, p).bias.data for p in ("q_proj", "k_proj", "v_proj")]
        module.in_proj_weight.copy_(torch.from_numpy(np.concatenate(weights)))
        module.in_proj_bias.copy_(torch.from_numpy(np.concatenate(biases)))
        module.out_proj.weight.copy_(torch.from_numpy(layer.out_proj.weight.data))
        module.out_proj.bias.copy_(torch.from_numpy(layer.out_proj.bias.data))
    return module


def _torch_reimplementation(layer, x, torch):
    """MHA written with torch functions and leaf copies of the layer's weights."""
    params = {
        name: torch.tensor(p.data, requires_grad=True) for name, p in layer.named_parameters()
    }
    batch, length, dim = x.shape
    heads = layer.num_heads

    def project(name, inp):
        return torch.nn.functional.linear(inp, params[f"{name}.weight"], params[f"{name}.bias"])

    def split(a):
        return a.view(batch, length, heads, dim // heads).transpose(1, 2)

    q, k, v = (split(project(n, x)) for n in ("q_proj", "k_proj", "v_proj"))
    y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    y = y.transpose(1, 2).reshape(batch, length, dim)
    return project("out_proj", y), params


def test_multi_head_attention_matches_torch_with_copied_weights():
    torch = pytest.importorskip("torch")
    layer = MultiHeadAttention(12, 3).double()
    x, x_torch = _pair((2, 5, 12), 0)
    out = layer(x, is_causal=True)
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(upstream)

    expected, params = _torch_reimplementation(layer, x_torch, torch)
    expected.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(x.grad.data, x_torch.grad.numpy(), atol=1e-12)
    for name, param in layer.named_parameters():
        np.testing.assert_allclose(param.grad.data, params[name].grad.numpy(), atol=1e-12)

    module = _copy_into_torch_mha(layer, torch)
    blocked = ~torch.ones(5, 5, dtype=torch.bool).tril()  # torch MHA: True = masked out
    reference, _ = module(x_torch, x_torch, x_torch, attn_mask=blocked, need_weights=False)
    np.testing.assert_allclose(out.data, reference.detach().numpy(), atol=1e-12)
