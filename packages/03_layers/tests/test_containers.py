"""Sequential, ModuleList and Identity."""

import numpy as np
import pytest

from gradstack.layers import Dropout, Identity, Linear, Module, ModuleList, Sequential
from gradstack.tensor import Tensor


class Relu:
    """A parameter-free callable that is not a Module (like gradstack.activations.ReLU)."""

    def __call__(self, x):
        return x * Tensor(x.data > 0, dtype=x.dtype)

    def __repr__(self):
        return "Relu()"


def test_sequential_runs_in_order_with_plain_callables():
    model = Sequential(Linear(3, 4), Relu(), Linear(4, 2))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    first, second = model[0], model[2]
    hidden = np.maximum(x @ first.weight.data.T + first.bias.data, 0)
    expected = hidden @ second.weight.data.T + second.bias.data
    np.testing.assert_allclose(model(Tensor(x)).data, expected, rtol=1e-5, atol=1e-6)


def test_sequential_names_indexing_len_iter():
    model = Sequential(Linear(3, 4), Relu(), Linear(4, 2))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(model) == 3
    assert isinstance(model[1], Relu)
    assert model[-1] is list(model)[2]
    part = model[1:]
    assert isinstance(part, Sequential) and len(part) == 2 and part[1] is model[2]
    assert [n for n, _ in model.named_children()] == ["0", "2"]


def test_sequential_append_and_setitem():
    model = Sequential(Linear(2, 2))
    model.append(Linear(2, 3))
    model[0] = Identity()
    assert [n for n, _ in model.named_parameters()] == ["1.weight", "1.bias"]
    assert model(Tensor(np.ones((1, 2)))).shape == (1, 3)


def test_sequential_index_errors():
    model = Sequential(Identity())
    with pytest.raises(IndexError, match="Sequential: index 1 is out of range for 1 items"):
        model[1]
    with pytest.raises(IndexError, match="index -2"):
        model[-2]
    with pytest.raises(TypeError, match="index must be an int or a slice, got str"):
        model["0"]


def test_containers_reject_non_callables():
    with pytest.raises(TypeError, match="Sequential: item 1 must be a Module or another callable"):
        Sequential(Identity(), 3)
    with pytest.raises(TypeError, match="ModuleList: item 0 must be a Module"):
        ModuleList([Tensor(np.ones(1))])
    with pytest.raises(
        TypeError, match="ModuleList: extend expects an iterable of items, got Linear"
    ):
        ModuleList(Linear(2, 2))


def test_empty_sequential_is_identity():
    x = Tensor(np.ones(2))
    assert Sequential()(x) is x


def test_module_list_append_extend_index_len_iter():
    layers = ModuleList([Linear(2, 2)])
    layers.append(Linear(2, 3))
    layers.extend([Linear(3, 1), Dropout(0.1)])
    assert len(layers) == 4
    assert [type(m).__name__ for m in layers] == ["Linear", "Linear", "Linear", "Dropout"]
    assert layers[-1].p == 0.1
    assert isinstance(layers[1:3], ModuleList) and len(layers[1:3]) == 2
    names = [name for name, _ in layers.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]


def test_module_list_inside_module_gives_dotted_names():
    class Stack(Module):
        def __init__(self):
            super().__init__()
            self.blocks = ModuleList([Sequential(Linear(2, 2)) for _ in range(2)])

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    model = Stack()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["blocks.0.0.weight", "blocks.0.0.bias", "blocks.1.0.weight", "blocks.1.0.bias"]
    model.eval()
    assert model.blocks[1][0].training is False
    assert model(Tensor(np.ones((3, 2)))).shape == (3, 2)


def test_module_list_has_no_forward():
    with pytest.raises(NotImplementedError, match="ModuleList: has no forward"):
        ModuleList([Identity()])(1)


def test_container_attributes_besides_items_are_walked():
    model = Sequential(Linear(2, 2))
    model.extra = Linear(2, 1)
    assert [n for n, _ in model.named_parameters()] == [
        "0.weight",
        "0.bias",
        "extra.weight",
        "extra.bias",
    ]


def test_identity_returns_input():
    x = Tensor(np.ones(2))
    assert Identity()(x) is x
    assert repr(Identity()) == "Identity()"


def test_sequential_repr_lists_every_item():
    model = Sequential(Linear(3, 4), Relu(), Dropout(0.5))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): Relu()\n"
        "  (2): Dropout(p=0.5)\n"
        ")"
    )
