"""KVCache on its own, and MultiHeadAttention decoding with it equal to the full forward."""

import numpy as np
import pytest

from gradstack.attention import KVCache, MultiHeadAttention
from gradstack.tensor import Tensor, no_grad


def test_append_writes_advances_and_returns_views():
    cache = KVCache(2, 3, 6, 4)
    assert cache.keys.shape == cache.values.shape == (2, 3, 6, 4)
    assert cache.keys.dtype == np.float32 and cache.length == 0
    rng = np.random.default_rng(0)
    k1, v1 = rng.standard_normal((2, 2, 3, 2, 4))
    keys, values = cache.append(k1, v1)
    assert cache.length == 2 and keys.shape == (2, 3, 2, 4)
    np.testing.assert_allclose(keys, k1.astype(np.float32))
    k2, v2 = rng.standard_normal((2, 2, 3, 3, 4))
    keys, values = cache.append(Tensor(k2), v2)
    assert cache.length == 5
    np.testing.assert_allclose(values, np.concatenate([v1, v2], axis=2), rtol=1e-6)
    assert np.shares_memory(keys, cache.keys) and np.shares_memory(values, cache.values)
    cache.reset()
    assert cache.length == 0
    keys, _ = cache.append(k2, v2)
    np.testing.assert_allclose(keys, k2.astype(np.float32))


def test_overflow_names_the_numbers_and_writes_nothing():
    cache = KVCache(1, 1, 4, 2)
    cache.append(np.ones((1, 1, 3, 2)), np.ones((1, 1, 3, 2)))
    with pytest.raises(ValueError, match=r"2 new positions after 3 cached would make 5, .* 4"):
        cache.append(np.full((1, 1, 2, 2), 7.0), np.full((1, 1, 2, 2), 7.0))
    assert cache.length == 3
    assert not (cache.keys == 7).any()


def test_shape_and_type_errors():
    cache = KVCache(2, 2, 4, 3, dtype=np.float64)
    assert cache.keys.dtype == np.float64
    with pytest.raises(ValueError, match=r"k of shape \(2, 3, 1, 3\) does not fit"):
        cache.append(np.zeros((2, 3, 1, 3)), np.zeros((2, 3, 1, 3)))
    with pytest.raises(ValueError, match=r"k of shape \(2, 2, 1, 3\) and v of shape"):
        cache.append(np.zeros((2, 2, 1, 3)), np.zeros((2, 2, 2, 3)))
    with pytest.raises(TypeError, match="must be an array"):
        cache.append([[0.0]], np.zeros((2, 2, 1, 3)))
    with pytest.raises(ValueError, match="KVCache: max_len must be a positive int, got 0"):
        KVCache(1, 1, 0, 2)
    with pytest.raises(TypeError, match="dtype must be floating point"):
        KVCache(1, 1, 2, 2, dtype=np.int32)


def _layer_and_input(batch=3, length=9, dim=16, heads=4, seed=0):
    layer = MultiHeadAttention(dim, heads).eval()
    x = Tensor(np.random.default_rng(seed).standard_normal((batch, length, dim)))
    return layer, x


@pytest.mark.parametrize("chunks", [[9], [4, 1, 1, 1, 1, 1], [1] * 9, [2, 3, 4]])
def test_decoding_with_the_cache_equals_the_full_causal_forward(chunks):
    layer, x = _layer_and_input()
    with no_grad():
        full = layer(x, is_causal=True).data
        cache = KVCache(3, 4, 12, 4)
        pieces, start = [], 0
        for size in chunks:
            pieces.append(layer(x[:, start : start + size], cache=cache).data)
            start += size
    assert cache.length == 9
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), full, atol=2e-6)


def test_cache_with_a_padding_mask_matches_the_full_forward():
    layer, x = _layer_and_input(batch=2, length=5)
    keep = np.array([[True] * 5, [False, True, True, True, True]])  # sequence 1: left padding
    with no_grad():
        full = layer(x, mask=keep[:, None, None, :], is_causal=True).data
        cache = KVCache(2, 4, 5, 4)
        first = layer(x[:, :3], mask=keep[:, None, None, :3], cache=cache).data
        second = layer(x[:, 3:], mask=keep[:, None, None, :], cache=cache).data
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), full, atol=2e-6)


def test_cache_needs_no_grad_and_matching_sizes():
    layer, x = _layer_and_input()
    with pytest.raises(RuntimeError, match="cache= is for inference; .* no_grad"):
        layer(x, cache=KVCache(3, 4, 12, 4))
    with no_grad():
        with pytest.raises(ValueError, match=r"cache \(batch_size, num_heads, head_dim, dtype\)"):
            layer(x, cache=KVCache(3, 2, 12, 8))
        with pytest.raises(ValueError, match=r"cache \(batch_size, num_heads, head_dim, dtype\)"):
            layer(x, cache=KVCache(3, 4, 12, 4, dtype=np.float64))
        small = KVCache(3, 4, 8, 4)
        with pytest.raises(ValueError, match="9 new positions after 0 cached would make 9"):
            layer(x, cache=small)
        assert small.length == 0
        with pytest.raises(TypeError, match="cache must be a KVCache"):
            layer(x, cache=(np.zeros(1), np.zeros(1)))
