"""Learned and sinusoidal positional encodings."""

import numpy as np
import pytest

from gradstack.embeddings import PositionalEncoding, SinusoidalPositionalEncoding
from gradstack.embeddings.positional import sinusoidal_table
from gradstack.layers import Parameter
from gradstack.tensor import Tensor, manual_seed


def _x(shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return Tensor(data, dtype="float64", requires_grad=True)


def test_learned_forward_adds_the_first_t_rows():
    layer = PositionalEncoding(8, 4)
    x = Tensor(np.random.default_rng(0).standard_normal((3, 5, 4)))
    out = layer(x)
    np.testing.assert_allclose(out.data, x.data + layer.weight.data[:5], rtol=1e-6)
    assert layer.pos is layer.weight
    assert isinstance(layer.weight, Parameter)
    assert [n for n, _ in layer.named_parameters()] == ["weight"]


def test_learned_init_has_std_002_and_is_seeded():
    manual_seed(5)
    first = PositionalEncoding(512, 64).weight.data.copy()
    manual_seed(5)
    np.testing.assert_array_equal(first, PositionalEncoding(512, 64).weight.data)
    assert first.dtype == np.float32
    assert abs(first.std() - 0.02) < 0.001


def test_learned_rows_past_t_get_zero_gradient_and_used_rows_the_batch_sum():
    layer = PositionalEncoding(6, 2)
    x = Tensor(np.zeros((3, 4, 2)), requires_grad=True)
    layer(x).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.data, [[3, 3]] * 4 + [[0, 0]] * 2)
    np.testing.assert_array_equal(x.grad.data, np.ones((3, 4, 2)))


def test_unbatched_input_works():
    layer = PositionalEncoding(6, 2)
    x = Tensor(np.ones((3, 2)))
    np.testing.assert_allclose(layer(x).data, 1 + layer.weight.data[:3])


@pytest.mark.parametrize("cls", [PositionalEncoding, SinusoidalPositionalEncoding])
def test_too_long_sequence_names_both_lengths(cls):
    layer = cls(4, 2)
    with pytest.raises(ValueError, match=r"sequence length 5 .* exceeds max_seq_len 4"):
        layer(Tensor(np.zeros((1, 5, 2))))


@pytest.mark.parametrize("cls", [PositionalEncoding, SinusoidalPositionalEncoding])
def test_wrong_embed_dim_is_a_value_error(cls):
    with pytest.raises(ValueError, match=r"last dim 3, but embed_dim is 2"):
        cls(4, 2)(Tensor(np.zeros((1, 2, 3))))
    with pytest.raises(ValueError, match=r"must be \(\.\.\., T, 2\)"):
        cls(4, 2)(Tensor(np.zeros(2)))
    with pytest.raises(TypeError, match="input must be a Tensor"):
        cls(4, 2)(np.zeros((1, 2, 2)))


@pytest.mark.parametrize("cls", [PositionalEncoding, SinusoidalPositionalEncoding])
def test_bad_sizes(cls):
    with pytest.raises(ValueError, match="max_seq_len must be a positive int, got 0"):
        cls(0, 2)
    with pytest.raises(TypeError, match="embed_dim must be an int"):
        cls(3, 2.5)


def test_sinusoidal_table_matches_the_formula():
    length, dim = 7, 6
    table = sinusoidal_table(length, dim)
    pos = np.arange(length)[:, None]
    i = np.arange(dim // 2)[None, :]
    angle = pos / 10000 ** (2 * i / dim)
    np.testing.assert_allclose(table[:, 0::2], np.sin(angle), atol=1e-6)
    np.testing.assert_allclose(table[:, 1::2], np.cos(angle), atol=1e-6)
    assert table.dtype == np.float32


def test_sinusoidal_table_with_odd_dim():
    table = sinusoidal_table(5, 5)
    assert table.shape == (5, 5)
    np.testing.assert_allclose(table[:, 4], np.sin(np.arange(5) / 10000 ** (4 / 5)), atol=1e-6)
    np.testing.assert_allclose(table[0], [0, 1, 0, 1, 0])


def test_sinusoidal_table_is_a_buffer_not_a_parameter():
    layer = SinusoidalPositionalEncoding(10, 4)
    assert list(layer.parameters()) == []
    assert [name for name, _ in layer.named_buffers()] == ["table"]
    assert not layer.table.requires_grad
    assert set(layer.state_dict()) == {"table"}
    layer.double()
    assert layer.table.dtype == np.float64


def test_sinusoidal_forward_adds_the_table():
    layer = SinusoidalPositionalEncoding(9, 4)
    x = _x((2, 6, 4))
    np.testing.assert_allclose(layer(x).data, x.data + layer.table.data[:6])


def test_start_continues_a_sequence():
    """forward(x, start) adds positions start .. start + T - 1 (KV-cache decoding)."""
    pe = PositionalEncoding(6, 4)
    x = Tensor(np.zeros((2, 3, 4)))
    np.testing.assert_array_equal(
        pe(x, start=2).data, np.broadcast_to(pe.weight.data[2:5], (2, 3, 4))
    )
    sin = SinusoidalPositionalEncoding(6, 4)
    np.testing.assert_array_equal(sin(x, start=3).data[0], sin.table.data[3:6])
    with pytest.raises(ValueError, match="positions 4..6 .* exceeds max_seq_len 6"):
        pe(x, start=4)
    with pytest.raises(ValueError, match="start must be a non-negative int"):
        pe(x, start=-1)
