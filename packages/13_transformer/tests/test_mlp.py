"""MLP: shapes, names, values against NumPy, gradients, dropout, PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.tensor import Tensor, manual_seed
from gradstack.transformer import MLP


def gelu_tanh(x):
    """GPT-2's tanh approximation of GELU."""
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def reference_mlp(mlp, x):
    """The MLP in plain NumPy from its parameters."""
    hidden = gelu_tanh(x @ mlp.linear1.weight.data.T + mlp.linear1.bias.data)
    return hidden @ mlp.linear2.weight.data.T + mlp.linear2.bias.data


def test_names_shapes_and_default_hidden_size():
    mlp = MLP(8)
    shapes = {name: p.shape for name, p in mlp.named_parameters()}
    assert shapes == {
        "linear1.weight": (32, 8),
        "linear1.bias": (32,),
        "linear2.weight": (8, 32),
        "linear2.bias": (8,),
    }
    assert MLP(8, hidden_dim=5).linear1.weight.shape == (5, 8)


def test_forward_matches_numpy_and_keeps_float32():
    manual_seed(0)
    mlp = MLP(6, 10)
    x = np.random.default_rng(0).standard_normal((2, 3, 6)).astype(np.float32)
    out = mlp(Tensor(x))
    assert out.shape == (2, 3, 6) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, reference_mlp(mlp, x.astype(np.float64)), atol=1e-5)


def test_dropout_after_linear2_only_in_training():
    manual_seed(2)
    mlp = MLP(4, 8, dropout=0.5)
    x = Tensor(np.random.default_rng(2).standard_normal((64, 4)).astype(np.float32))
    clean = reference_mlp(mlp, x.data.astype(np.float64))
    dropped = mlp(x).data
    zeroed = dropped == 0
    assert 0.3 < zeroed.mean() < 0.7
    np.testing.assert_allclose(dropped[~zeroed], 2 * clean[~zeroed], rtol=1e-4, atol=1e-5)
    mlp.eval()
    np.testing.assert_allclose(mlp(x).data, clean, atol=1e-5)


def test_bad_sizes_are_errors():
    with pytest.raises(ValueError, match="MLP: embed_dim must be a positive int, got 0"):
        MLP(0)
    with pytest.raises(ValueError, match="MLP: hidden_dim must be a positive int, got -3"):
        MLP(4, hidden_dim=-3)


@pytest.mark.torch
def test_matches_torch():
    torch = pytest.importorskip("torch")
    manual_seed(3)
    mlp = MLP(6, 12)
    x_np = np.random.default_rng(3).standard_normal((3, 5, 6)).astype(np.float32)
    upstream = np.random.default_rng(4).standard_normal((3, 5, 6)).astype(np.float32)
    x = Tensor(x_np, requires_grad=True)
    out = mlp(x)
    out.backward(upstream)

    fc1 = torch.nn.Linear(6, 12)
    fc2 = torch.nn.Linear(12, 6)
    with torch.no_grad():
        for layer, mine in ((fc1, mlp.linear1), (fc2, mlp.linear2)):
            layer.weight.copy_(torch.tensor(mine.weight.data))
            layer.bias.copy_(torch.tensor(mine.bias.data))
    xt = torch.tensor(x_np, requires_grad=True)
    expected = fc2(torch.nn.functional.gelu(fc1(xt), approximate="tanh"))
    expected.backward(torch.tensor(upstream))

    np.testing.assert_allclose(out.data, expected.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), atol=1e-4)
    for layer, mine in ((fc1, mlp.linear1), (fc2, mlp.linear2)):
        np.testing.assert_allclose(mine.weight.grad.data, layer.weight.grad.numpy(), atol=1e-4)
        np.testing.assert_allclose(mine.bias.grad.data, layer.bias.grad.numpy(), atol=1e-4)
