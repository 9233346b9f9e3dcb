"""Gradients of gradstack.layers: the fused "linear" op, Linear, Dropout, a small MLP."""

import numpy as np
import pytest

from gradstack.autograd import RULES, check_gradients, gradcheck
from gradstack.layers import Dropout, Linear, Module, Sequential, linear
from gradstack.layers.gradcheck_cases import GRADCHECK_CASES
from gradstack.tensor import Tensor, default_generator, manual_seed


def f64(*shape, seed=0, requires_grad=True):
    """A float64 tensor of standard normal values."""
    values = np.random.default_rng(seed).standard_normal(shape)
    return Tensor(values, dtype="float64", requires_grad=requires_grad)


def test_linear_rule_is_registered():
    assert "linear" in RULES


def test_the_layers_table_covers_the_linear_op_modules_and_dropout():
    # gradstack.layers' table; tests/test_gradcheck_tables.py runs every case of it
    assert sum(case.op == "linear" for case in GRADCHECK_CASES) >= 11
    assert {"Linear", "Dropout (train mode)", "Sequential"} <= {
        c.component for c in GRADCHECK_CASES
    }


def test_linear_op_gradients_by_formula():
    x = f64(2, 3, 4, seed=4)
    w = f64(6, 4, seed=5)
    b = f64(6, seed=6)
    g = np.random.default_rng(7).standard_normal((2, 3, 6))
    linear(x, w, b).backward(g)
    np.testing.assert_allclose(x.grad.data, g @ w.data)
    np.testing.assert_allclose(w.grad.data, np.einsum("bto,bti->oi", g, x.data))
    np.testing.assert_allclose(b.grad.data, g.sum(axis=(0, 1)))


def test_linear_float32_gradients_have_parameter_dtype_and_shape():
    layer = Linear(3, 2)
    x = Tensor(np.ones((4, 3)))
    layer(x).sum().backward()
    assert layer.weight.grad.dtype == np.float32 and layer.weight.grad.shape == (2, 3)
    np.testing.assert_allclose(layer.weight.grad.data, np.full((2, 3), 4.0))
    np.testing.assert_allclose(layer.bias.grad.data, [4.0, 4.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_gradient_is_mask_over_keep_probability_exactly(dtype, p):
    x = Tensor(np.random.default_rng(0).standard_normal((6, 7)), dtype=dtype, requires_grad=True)
    manual_seed(11)
    out = Dropout(p)(x)
    manual_seed(11)  # draw the same mask again, the way dropout draws it
    keep = default_generator().random(x.shape, dtype=np.float32) < 1.0 - p
    mask = keep.astype(dtype)
    out.sum().backward()
    assert x.grad.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(x.grad.data, mask / (1 - p))
    np.testing.assert_array_equal(out.data, x.data * (mask / (1 - p)))
    assert 0 < keep.sum() < keep.size


def test_dropout_in_eval_passes_gradient_through():
    x = f64(3, 4)
    layer = Dropout(0.5).eval()
    layer(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((3, 4)))


class MLP(Module):
    def __init__(self, sizes):
        super().__init__()
        self.hidden = Linear(sizes[0], sizes[1])
        self.out = Linear(sizes[1], sizes[2])

    def forward(self, x):
        return self.out(self.hidden(x).tanh())


def test_two_layer_mlp_parameter_gradients_by_finite_differences():
    manual_seed(3)
    model = MLP((4, 6, 3)).double()
    x = f64(5, 4, seed=13, requires_grad=False)
    params = list(model.parameters())
    assert len(params) == 4
    result = check_gradients(lambda *ps: (model(x) ** 2).mean(), params)
    assert result.passed, result.describe()
    assert result.checked == 4 * 6 + 6 + 6 * 3 + 3


def test_mlp_gradients_land_in_grad_and_zero_grad_clears():
    manual_seed(4)
    model = Sequential(Linear(3, 5), Linear(5, 1))
    model(Tensor(np.ones((2, 3)))).sum().backward()
    assert all(p.grad is not None and np.any(p.grad.data != 0) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_tied_weight_gets_sum_of_both_gradients():
    class Tied(Module):
        def __init__(self):
            super().__init__()
            self.a = Linear(3, 3, bias=False)
            self.b = Linear(3, 3, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    manual_seed(5)
    model = Tied().double()
    assert len(list(model.parameters())) == 1
    x = f64(2, 3, seed=14, requires_grad=False)
    assert gradcheck(lambda w: model(x), [model.a.weight])


@pytest.mark.torch
@pytest.mark.parametrize("x_shape", [(4, 3), (2, 5, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(x_shape, bias):
    torch = pytest.importorskip("torch")
    manual_seed(6)
    ours = Linear(3, 4, bias=bias)
    theirs = torch.nn.Linear(3, 4, bias=bias)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data))
        if bias:
            theirs.bias.copy_(torch.from_numpy(ours.bias.data))
    x_np = np.random.default_rng(15).standard_normal(x_shape).astype(np.float32)
    g_np = np.random.default_rng(16).standard_normal(x_shape[:-1] + (4,)).astype(np.float32)
    x = Tensor(x_np, requires_grad=True)
    x_t = torch.tensor(x_np, requires_grad=True)
    out = ours(x)
    out_t = theirs(x_t)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.backward(g_np)
    out_t.backward(torch.from_numpy(g_np))
    np.testing.assert_allclose(x.grad.data, x_t.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-5, atol=1e-5
    )
    if bias:
        np.testing.assert_allclose(
            ours.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-5, atol=1e-5
        )


@pytest.mark.torch
def test_linear_init_statistics_match_torch():
    torch = pytest.importorskip("torch")
    ours = Linear(256, 512).weight.data
    theirs = torch.nn.Linear(256, 512).weight.detach().numpy()
    assert np.abs(ours).max() <= 1 / 16 and np.abs(theirs).max() <= 1 / 16
    np.testing.assert_allclose(ours.std(), theirs.std(), rtol=0.02)


def test_sequential_with_activation_objects_gradients():
    activations = pytest.importorskip("gradstack.activations")
    manual_seed(7)
    model = Sequential(Linear(3, 5), activations.GELU(), Linear(5, 2)).double()
    x = f64(4, 3, seed=17)
    assert [name for name, _ in model.named_parameters()] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    ]
    assert gradcheck(lambda x, *params: model(x), [x, *model.parameters()])
