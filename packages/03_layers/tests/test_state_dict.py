"""state_dict / load_state_dict: copies out, in-place copies in, every error named."""

import numpy as np
import pytest

from gradstack.layers import Linear, Module, Sequential
from gradstack.tensor import Tensor, manual_seed


class Net(Module):
    def __init__(self):
        super().__init__()
        self.body = Sequential(Linear(3, 4), Linear(4, 2))
        self.register_buffer("steps", Tensor(np.zeros(1)))

    def forward(self, x):
        return self.body(x)


NAMES = ["body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias", "steps"]


def test_state_dict_names_and_copies():
    net = Net()
    state = net.state_dict()
    assert list(state) == NAMES
    assert all(isinstance(v, np.ndarray) for v in state.values())
    np.testing.assert_array_equal(state["body.0.weight"], net.body[0].weight.data)
    assert state["body.0.weight"] is not net.body[0].weight.data
    state["body.0.weight"][...] = 123.0
    assert not np.any(net.body[0].weight.data == 123.0)


def test_round_trip_restores_values_in_place():
    manual_seed(1)
    source = Net()
    source.steps.data[...] = 5.0
    manual_seed(2)
    target = Net()
    arrays = {name: t.data for name, t in target.named_parameters()}
    arrays["steps"] = target.steps.data
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for name, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[name], value)
    for name, tensor in target.named_parameters():
        assert tensor.data is arrays[name]  # same array object: optimizers keep working
    assert target.steps.data is arrays["steps"]


def test_load_accepts_tensors_as_values():
    net = Net()
    state = {name: Tensor(value) for name, value in Net().state_dict().items()}
    net.load_state_dict(state)
    np.testing.assert_array_equal(net.body[1].bias.data, state["body.1.bias"].data)


def test_missing_and_unexpected_keys_are_listed():
    net = Net()
    state = net.state_dict()
    del state["body.1.bias"]
    del state["steps"]
    state["body.2.weight"] = np.zeros((2, 2), dtype=np.float32)
    before = net.state_dict()
    message = (
        r"load_state_dict for Net: missing keys: \['body.1.bias', 'steps'\]; "
        r"unexpected keys: \['body.2.weight'\]"
    )
    with pytest.raises(ValueError, match=message):
        net.load_state_dict(state)
    for name, value in before.items():
        np.testing.assert_array_equal(net.state_dict()[name], value)


def test_non_strict_load_reports_and_loads_the_rest():
    net = Net()
    state = {"body.0.bias": np.full(4, 3.0, dtype=np.float32), "extra": np.zeros(1)}
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["body.0.weight", "body.1.weight", "body.1.bias", "steps"]
    assert result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(net.body[0].bias.data, [3.0, 3.0, 3.0, 3.0])


def test_shape_mismatch_names_parameter_expected_and_got():
    net = Net()
    state = net.state_dict()
    state["body.0.weight"] = np.zeros((3, 4), dtype=np.float32)
    state["body.1.bias"] = np.zeros(3, dtype=np.float32)
    before = net.body[1].weight.data.copy()
    state["body.1.weight"] = np.zeros((2, 4), dtype=np.float32)
    message = (
        r"shape mismatch for 'body.0.weight': expected shape \(4, 3\), got \(3, 4\); "
        r"'body.1.bias': expected shape \(2,\), got \(3,\)"
    )
    with pytest.raises(ValueError, match=message):
        net.load_state_dict(state)
    np.testing.assert_array_equal(net.body[1].weight.data, before)  # nothing half-loaded


def test_shape_mismatch_is_checked_even_when_not_strict():
    net = Net()
    with pytest.raises(ValueError, match="'body.0.bias': expected shape"):
        net.load_state_dict({"body.0.bias": np.zeros(5, dtype=np.float32)}, strict=False)


def test_dtype_mismatch_names_parameter_and_dtypes():
    net = Net()
    state = net.state_dict()
    state["body.0.bias"] = state["body.0.bias"].astype(np.float64)
    message = r"dtype mismatch for 'body.0.bias': expected dtype float32, got float64"
    with pytest.raises(TypeError, match=message):
        net.load_state_dict(state)


def test_float64_module_loads_float64_state():
    source = Net().double()
    target = Net().double()
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(target.body[0].weight.data, source.body[0].weight.data)
    assert target.body[0].weight.dtype == np.float64


def test_bad_value_and_bad_state_types():
    net = Net()
    state = net.state_dict()
    state["steps"] = [0.0]
    with pytest.raises(TypeError, match="entry 'steps' must be an ndarray or a Tensor, got list"):
        net.load_state_dict(state)
    with pytest.raises(TypeError, match="expects a mapping of names to arrays, got list"):
        net.load_state_dict([("steps", np.zeros(1))])
