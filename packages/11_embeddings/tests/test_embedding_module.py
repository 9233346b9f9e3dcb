"""The Embedding module: parameters, initialisation, lookups, errors."""

import numpy as np
import pytest

from gradstack.embeddings import Embedding
from gradstack.layers import Parameter
from gradstack.tensor import Tensor, manual_seed


def test_weight_is_the_only_parameter_with_the_right_shape():
    layer = Embedding(10, 4)
    names = [name for name, _ in layer.named_parameters()]
    assert names == ["weight"]
    assert isinstance(layer.weight, Parameter)
    assert layer.weight.shape == (10, 4)
    assert layer.weight.dtype == np.float32


def test_init_is_standard_normal_and_seeded():
    manual_seed(3)
    first = Embedding(400, 50).weight.data.copy()
    manual_seed(3)
    second = Embedding(400, 50).weight.data
    np.testing.assert_array_equal(first, second)
    assert abs(first.mean()) < 0.02
    assert abs(first.std() - 1.0) < 0.02


def test_forward_returns_rows_and_batched_shape():
    layer = Embedding(7, 3)
    tokens = Tensor(np.array([[6, 0, 6], [1, 2, 3]]))
    out = layer(tokens)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.data, layer.weight.data[tokens.data])


def test_out_of_range_names_the_module_index_and_size():
    layer = Embedding(10, 2)
    with pytest.raises(IndexError, match=r"Embedding: index 10 is out of range .* size 10"):
        layer(np.array([3, 10]))
    with pytest.raises(IndexError, match=r"Embedding: index -2 is out of range"):
        layer(np.array([-2, 3]))


def test_float_indices_are_a_type_error():
    with pytest.raises(TypeError, match="Embedding: indices must be integers, got dtype float32"):
        Embedding(4, 2)(Tensor(np.array([1.0, 2.0])))


@pytest.mark.parametrize(
    ("args", "error"), [((0, 3), ValueError), ((3, -1), ValueError), ((3.0, 2), TypeError)]
)
def test_bad_sizes(args, error):
    with pytest.raises(error, match="Embedding: "):
        Embedding(*args)


@pytest.mark.torch
def test_gradients_match_torch_embedding():
    torch = pytest.importorskip("torch")
    layer = Embedding(9, 5)
    tokens = np.array([[1, 8, 1, 0], [8, 8, 2, 1]])
    upstream = np.random.default_rng(1).standard_normal((2, 4, 5)).astype(np.float32)
    out = layer(tokens)
    out.backward(upstream)
    reference = torch.nn.Embedding(9, 5)
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(layer.weight.data))
    expected = reference(torch.from_numpy(tokens))
    expected.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(layer.weight.grad.data, reference.weight.grad.numpy(), atol=1e-6)
