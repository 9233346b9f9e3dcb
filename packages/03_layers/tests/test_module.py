"""Module: recursive discovery of parameters, buffers and children; modes; dtype; repr."""

import numpy as np
import pytest

from gradstack.layers import Dropout, Identity, Linear, Module, ModuleList, Parameter
from gradstack.tensor import Tensor


class Attention(Module):
    def __init__(self, dim):
        super().__init__()
        self.q_proj = Linear(dim, dim)
        self.out_proj = Linear(dim, dim, bias=False)


class Block(Module):
    def __init__(self, dim):
        super().__init__()
        self.attn = Attention(dim)
        self.scale = Parameter(np.ones(dim))
        self.drop = Dropout(0.1)


class Model(Module):
    def __init__(self, dim=4, depth=2):
        super().__init__()
        self.embed = Parameter(np.zeros((3, dim)))
        self.blocks = ModuleList([Block(dim) for _ in range(depth)])
        self.heads = {"main": Linear(dim, 2), "aux": [Linear(dim, 1)]}
        self.pair = (Parameter(np.ones(1)), Identity())
        self.note = "not a parameter"
        self.cache = Tensor(np.ones(2), requires_grad=True)  # a plain Tensor: ignored

    def forward(self, x):
        return x


MODEL_NAMES = [
    "embed",
    "blocks.0.attn.q_proj.weight",
    "blocks.0.attn.q_proj.bias",
    "blocks.0.attn.out_proj.weight",
    "blocks.0.scale",
    "blocks.1.attn.q_proj.weight",
    "blocks.1.attn.q_proj.bias",
    "blocks.1.attn.out_proj.weight",
    "blocks.1.scale",
    "heads.main.weight",
    "heads.main.bias",
    "heads.aux.0.weight",
    "heads.aux.0.bias",
    "pair.0",
]


def test_named_parameters_names_and_order():
    model = Model()
    assert [name for name, _ in model.named_parameters()] == MODEL_NAMES


def test_named_parameters_values_are_the_attributes():
    model = Model()
    named = dict(model.named_parameters())
    assert named["blocks.1.attn.q_proj.weight"] is model.blocks[1].attn.q_proj.weight
    assert named["heads.aux.0.bias"] is model.heads["aux"][0].bias
    assert named["pair.0"] is model.pair[0]


def test_parameters_match_named_parameters():
    model = Model()
    assert [id(p) for p in model.parameters()] == [id(p) for _, p in model.named_parameters()]


def test_named_parameters_prefix_and_no_recurse():
    model = Model()
    assert [n for n, _ in model.named_parameters(recurse=False)] == ["embed", "pair.0"]
    names = [n for n, _ in model.blocks[0].named_parameters(prefix="b")]
    assert names == [
        "b.attn.q_proj.weight",
        "b.attn.q_proj.bias",
        "b.attn.out_proj.weight",
        "b.scale",
    ]


def test_num_parameters_counts_numbers():
    model = Model(dim=4, depth=2)
    per_block = (16 + 4) + 16 + 4
    expected = 12 + 2 * per_block + (8 + 2) + (4 + 1) + 1
    assert model.num_parameters() == expected


class Tied(Module):
    def __init__(self):
        super().__init__()
        self.encoder = Linear(3, 5, bias=False)
        self.decoder = Linear(5, 3, bias=False)
        self.decoder.weight = Parameter(np.ones((3, 5)))
        self.head = Linear(5, 3)
        self.head.weight = self.decoder.weight  # tied: same object reachable twice
        self.again = self.encoder  # same module reachable twice


def test_tied_parameters_listed_once_first_name_wins():
    model = Tied()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["encoder.weight", "decoder.weight", "head.bias"]
    assert model.num_parameters() == 15 + 15 + 3
    assert list(model.state_dict()) == names


def test_children_and_modules():
    model = Model(depth=2)
    child_names = [name for name, _ in model.named_children()]
    assert child_names == ["blocks", "heads.main", "heads.aux.0", "pair.1"]
    assert list(model.children())[0] is model.blocks
    module_names = [name for name, _ in model.named_modules()]
    assert module_names == [
        "",
        "blocks",
        "blocks.0",
        "blocks.0.attn",
        "blocks.0.attn.q_proj",
        "blocks.0.attn.out_proj",
        "blocks.0.drop",
        "blocks.1",
        "blocks.1.attn",
        "blocks.1.attn.q_proj",
        "blocks.1.attn.out_proj",
        "blocks.1.drop",
        "heads.main",
        "heads.aux.0",
        "pair.1",
    ]
    assert list(model.modules())[0] is model


def test_shared_module_listed_once_in_modules():
    model = Tied()
    assert [name for name, _ in model.named_modules()] == ["", "encoder", "decoder", "head"]


def test_cycle_back_to_parent_does_not_loop():
    model = Model(depth=1)
    model.blocks[0].parent = model
    assert len(list(model.named_parameters())) == len(MODEL_NAMES) - 4
    assert len(list(model.modules())) == 10
    assert "(parent): Model(...)" in repr(model)


def test_train_eval_propagate_to_every_module():
    model = Model()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.blocks[1].drop.training is False
    model.train()
    assert all(m.training for m in model.modules())
    model.train(False)
    assert model.heads["aux"][0].training is False


def test_train_rejects_non_bool():
    with pytest.raises(TypeError, match="train: mode must be True or False"):
        Model().train("no")


def test_zero_grad_set_to_none_and_in_place():
    model = Linear(3, 2)
    model.weight.grad = Tensor(np.ones((2, 3)))
    model.bias.grad = Tensor(np.ones(2))
    held = model.weight.grad.data
    model.zero_grad(set_to_none=False)
    assert model.weight.grad.data is held
    np.testing.assert_array_equal(held, np.zeros((2, 3)))
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


class WithBuffers(Module):
    def __init__(self):
        super().__init__()
        self.linear = Linear(2, 2)
        self.register_buffer("running", Tensor(np.zeros(2)))
        self.register_buffer("mask", Tensor(np.tril(np.ones((2, 2), dtype=bool))))
        self.register_buffer("table", Tensor(np.ones(3)), persistent=False)
        self.register_buffer("empty", None)

    def forward(self, x):
        return x


def test_buffers_are_plain_tensors_listed_with_names():
    model = WithBuffers()
    names = [name for name, _ in model.named_buffers()]
    assert names == ["running", "mask", "table"]
    assert all(type(b) is Tensor for b in model.buffers())
    assert [name for name, _ in model.named_parameters()] == ["linear.weight", "linear.bias"]


def test_state_dict_holds_parameters_and_persistent_buffers():
    model = WithBuffers()
    assert list(model.state_dict()) == ["linear.weight", "linear.bias", "running", "mask"]


def test_register_buffer_errors():
    model = WithBuffers()
    with pytest.raises(TypeError, match="must be a plain Tensor or None, got Parameter"):
        model.register_buffer("p", Parameter(np.ones(1)))
    with pytest.raises(TypeError, match="got ndarray"):
        model.register_buffer("p", np.ones(1))
    with pytest.raises(ValueError, match="already has an attribute 'linear'"):
        model.register_buffer("linear", Tensor(np.ones(1)))
    with pytest.raises(ValueError, match="must be an identifier"):
        model.register_buffer("a.b", Tensor(np.ones(1)))


def test_register_buffer_without_super_init_is_a_clear_error():
    class Forgetful(Module):
        def __init__(self):
            self.register_buffer("x", Tensor(np.ones(1)))

    with pytest.raises(RuntimeError, match=r"call super\(\).__init__\(\) in Forgetful"):
        Forgetful()


def test_buffer_reassignment_keeps_it_a_buffer():
    model = WithBuffers()
    model.running = Tensor(np.full(2, 7.0))
    np.testing.assert_array_equal(model.state_dict()["running"], [7.0, 7.0])


def test_to_double_converts_in_place_keeping_objects():
    model = WithBuffers()
    weight = model.linear.weight
    weight.grad = Tensor(np.ones((2, 2)))
    values = weight.data.copy()
    assert model.double() is model
    assert model.linear.weight is weight
    assert weight.dtype == np.float64 and weight.grad.dtype == np.float64
    np.testing.assert_array_equal(weight.data, values.astype(np.float64))
    assert model.running.dtype == np.float64 and model.table.dtype == np.float64
    assert model.mask.dtype == np.bool_  # masks stay masks
    model.float()
    assert weight.dtype == np.float32 and model.running.dtype == np.float32


def test_to_rejects_non_float_dtype():
    with pytest.raises(TypeError, match="to: dtype must be floating point, got int32"):
        Linear(2, 2).to("int32")


def test_typo_is_an_attribute_error():
    model = Linear(2, 2)
    with pytest.raises(AttributeError):
        _ = model.wieght


def test_base_forward_is_not_implemented():
    with pytest.raises(NotImplementedError, match="Module: subclasses of Module define forward"):
        Module()(1)


def test_call_runs_forward_with_arguments():
    class Add(Module):
        def forward(self, x, y=0):
            return x + y

    assert Add()(2, y=3) == 5


def test_forgetting_super_init_still_walks_and_trains():
    class NoInit(Module):
        def __init__(self):
            self.fc = Linear(2, 2)

    model = NoInit()
    assert [n for n, _ in model.named_parameters()] == ["fc.weight", "fc.bias"]
    assert model.training is True
    model.eval()
    assert model.training is False and model.fc.training is False


def test_repr_is_nested_like_pytorch():
    model = Model(depth=1)
    expected = (
        "Model(\n"
        "  (blocks): ModuleList(\n"
        "    (0): Block(\n"
        "      (attn): Attention(\n"
        "        (q_proj): Linear(in_features=4, out_features=4, bias=True)\n"
        "        (out_proj): Linear(in_features=4, out_features=4, bias=False)\n"
        "      )\n"
        "      (drop): Dropout(p=0.1)\n"
        "    )\n"
        "  )\n"
        "  (heads.main): Linear(in_features=4, out_features=2, bias=True)\n"
        "  (heads.aux.0): Linear(in_features=4, out_features=1, bias=True)\n"
        "  (pair.1): Identity()\n"
        ")"
    )
    assert repr(model) == expected
