"""attention_maps: each layer's and head's probabilities over a prompt, checked by hand."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from gradstack.autograd import profile
from gradstack.tensor import Tensor, manual_seed
from gradstack.transformer import GPT, attention_maps, draw_attention_maps, token_labels

TOKENS = [3, 1, 4, 1, 5, 9, 2]


def seed_gpt() -> GPT:
    manual_seed(0)
    return GPT(vocab_size=20, embed_dim=16, num_layers=2, num_heads=4, dropout=0.1)


def by_hand(model: GPT, tokens: list[int]) -> np.ndarray:
    """softmax(q kᵀ / √hd) with the causal mask, block by block, from the modules' pieces."""
    length, heads = len(tokens), model.config.num_heads
    hd = model.config.embed_dim // heads
    x = model.position_embedding(model.token_embedding(np.asarray([tokens])))
    maps = []
    for block in model.blocks:
        h = block.ln1(x).numpy()[0]  # (T, C)
        attn = block.attn
        q = h @ attn.q_proj.weight.numpy().T + attn.q_proj.bias.numpy()
        k = h @ attn.k_proj.weight.numpy().T + attn.k_proj.bias.numpy()
        q = q.reshape(length, heads, hd).transpose(1, 0, 2)  # (H, T, hd)
        k = k.reshape(length, heads, hd).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(hd)  # (H, T, T)
        scores = np.where(np.tril(np.ones((length, length), bool)), scores, -np.inf)
        exps = np.exp(scores - scores.max(-1, keepdims=True))
        maps.append(exps / exps.sum(-1, keepdims=True))
        x = block(x)
    return np.stack(maps)


def test_maps_are_layers_by_heads_of_causal_probabilities():
    model = seed_gpt()
    maps = attention_maps(model, TOKENS)
    assert maps.shape == (2, 4, 7, 7) and maps.dtype == np.float32
    np.testing.assert_allclose(maps.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.triu(maps, k=1) == 0.0)  # no query looks ahead
    model.eval()
    np.testing.assert_allclose(maps, by_hand(model, TOKENS), atol=1e-5)


def test_the_model_is_left_as_it_was():
    model = seed_gpt()
    assert model.training
    attention_maps(model, np.asarray([TOKENS]))  # one row (1, T) works too
    assert model.training  # back in train mode (the recording pass ran in eval mode)
    model.eval()
    logits_before = model(np.asarray([TOKENS])).numpy()
    attention_maps(model, TOKENS)
    assert not model.training
    np.testing.assert_array_equal(model(np.asarray([TOKENS])).numpy(), logits_before)
    x = Tensor([1.0], requires_grad=True)
    assert (x * 2).grad_fn is not None  # the recorder is gone: ops record graphs again


def test_bad_input_is_named():
    model = seed_gpt()
    with pytest.raises(TypeError, match="attention_maps: expects a GPT"):
        attention_maps(object(), TOKENS)
    with pytest.raises(ValueError, match="attention_maps: tokens must be"):
        attention_maps(model, [])
    with pytest.raises(ValueError, match="attention_maps: tokens must be"):
        attention_maps(model, [[1, 2], [3, 4]])
    small = GPT(vocab_size=20, embed_dim=16, num_layers=1, num_heads=4, max_seq_len=4)
    with pytest.raises(ValueError, match="5 tokens exceed max_seq_len=4"):
        attention_maps(small, [1, 2, 3, 4, 5])
    with profile(), pytest.raises(RuntimeError, match="another op hook is installed"):
        attention_maps(model, TOKENS)


def test_token_labels_make_whitespace_visible():
    assert token_labels(["a", " ", "\n", "", "abcdefghij"]) == ["a", "␣", "⏎", "∅", "abcdefg…"]


def test_drawing_without_matplotlib_says_which_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"gradstack-transformer\[plot\]"):
        draw_attention_maps(np.zeros((1, 1, 2, 2)), tmp_path / "a.png")
    assert not (tmp_path / "a.png").exists()
