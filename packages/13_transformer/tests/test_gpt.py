"""GPT: parameters, initialization, forward values, input checks, end-to-end gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradstack.tensor import Tensor, manual_seed, no_grad
from gradstack.transformer import GPT, GPTConfig


def tiny_gpt(**overrides) -> GPT:
    """GPT(20, 16, 2, 4) with a short context, seeded."""
    manual_seed(0)
    settings = {"vocab_size": 20, "embed_dim": 16, "num_layers": 2, "num_heads": 4}
    settings.update({"max_seq_len": 16, **overrides})
    return GPT(**settings)


def position_name(model: GPT) -> str:
    """The dotted name of the learned position table."""
    return next(n for n, _ in model.named_parameters() if n.startswith("position_embedding."))


def cross_entropy(logits: Tensor, targets: np.ndarray) -> Tensor:
    """Mean cross-entropy from elementary tensor ops (a check independent of fused losses)."""
    flat = logits.reshape(-1, logits.shape[-1])  # (B, T, V) -> (B*T, V)
    shifted = flat - Tensor(flat.data.max(axis=-1, keepdims=True), dtype=flat.dtype)
    log_norm = shifted.exp().sum(dim=-1).log()  # (B*T,)
    picked = shifted[np.arange(flat.shape[0]), targets.reshape(-1)]  # (B*T,)
    return (log_norm - picked).mean()


BLOCK_NAMES = [
    "ln1.gamma",
    "ln1.beta",
    "attn.q_proj.weight",
    "attn.q_proj.bias",
    "attn.k_proj.weight",
    "attn.k_proj.bias",
    "attn.v_proj.weight",
    "attn.v_proj.bias",
    "attn.out_proj.weight",
    "attn.out_proj.bias",
    "ln2.gamma",
    "ln2.beta",
    "mlp.linear1.weight",
    "mlp.linear1.bias",
    "mlp.linear2.weight",
    "mlp.linear2.bias",
]


def test_37_parameter_tensors_with_dotted_names():
    model = GPT(vocab_size=20, embed_dim=16, num_layers=2, num_heads=4)
    named = dict(model.named_parameters())
    expected = (
        ["token_embedding.weight", position_name(model)]
        + [f"blocks.{i}.{name}" for i in range(2) for name in BLOCK_NAMES]
        + ["ln_f.gamma", "ln_f.beta", "lm_head.weight"]
    )
    assert len(named) == 37
    assert sorted(named) == sorted(expected)
    assert named["token_embedding.weight"].shape == (20, 16)
    assert named[position_name(model)].shape == (1024, 16)
    assert named["lm_head.weight"].shape == (20, 16)
    assert named["blocks.1.mlp.linear1.weight"].shape == (64, 16)
    assert named["lm_head.weight"] is not named["token_embedding.weight"]
    assert not np.shares_memory(named["lm_head.weight"].data, named["token_embedding.weight"].data)


def test_config_and_from_config():
    config = GPTConfig(vocab_size=11, embed_dim=8, num_layers=3, num_heads=2, max_seq_len=9)
    model = GPT.from_config(config)
    assert model.config == config
    assert len(model.blocks) == 3
    assert GPT(11, 8, 3, 2, max_seq_len=9).config == config
    with pytest.raises(TypeError, match="GPT.from_config: expects a GPTConfig"):
        GPT.from_config({"vocab_size": 11})
    with pytest.raises(ValueError, match="not divisible by num_heads 3"):
        GPT(11, 8, 1, 3)


def test_nanogpt_initialization():
    manual_seed(0)
    model = GPT(vocab_size=64, embed_dim=64, num_layers=4, num_heads=4, max_seq_len=256)
    named = dict(model.named_parameters())
    residual_std = 0.02 / math.sqrt(2 * 4)
    for name, parameter in named.items():
        data = parameter.data
        assert data.dtype == np.float32, name
        if name.endswith(("attn.out_proj.weight", "mlp.linear2.weight")):
            assert abs(data.std() - residual_std) < 0.1 * residual_std, name
            assert abs(data.mean()) < 0.1 * residual_std
        elif name.endswith("weight"):
            assert abs(data.std() - 0.02) < 0.002, name
        elif name.endswith(("bias", "beta")):
            np.testing.assert_array_equal(data, 0.0, err_msg=name)
        elif name.endswith("gamma"):
            np.testing.assert_array_equal(data, 1.0, err_msg=name)
    manual_seed(0)
    again = GPT(vocab_size=64, embed_dim=64, num_layers=4, num_heads=4, max_seq_len=256)
    for (name, a), (_, b) in zip(model.named_parameters(), again.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_forward_shape_dtype_and_batch_independence():
    model = tiny_gpt()
    tokens = np.random.default_rng(0).integers(0, 20, size=(3, 7))
    logits = model(tokens)
    assert logits.shape == (3, 7, 20) and logits.dtype == np.float32
    assert logits.grad_fn is not None
    alone = model(tokens[1:2])
    np.testing.assert_allclose(alone.data[0], logits.data[1], atol=1e-6)
    np.testing.assert_allclose(model(Tensor(tokens)).data, logits.data)


def test_forward_is_causal():
    """The logits at position t do not depend on tokens after t."""
    model = tiny_gpt()
    tokens = np.random.default_rng(1).integers(0, 20, size=(2, 9))
    changed = tokens.copy()
    changed[:, 5:] = (changed[:, 5:] + 7) % 20
    with no_grad():
        a, b = model(tokens).data, model(changed).data
    np.testing.assert_allclose(a[:, :5], b[:, :5], atol=1e-6)
    assert np.abs(a[:, 5:] - b[:, 5:]).max() > 1e-4


def test_dropout_only_in_training():
    model = tiny_gpt(dropout=0.3)
    tokens = np.random.default_rng(2).integers(0, 20, size=(2, 6))
    with no_grad():
        assert np.abs(model(tokens).data - model(tokens).data).max() > 1e-5
        model.eval()
        np.testing.assert_array_equal(model(tokens).data, model(tokens).data)


@pytest.mark.parametrize(
    ("tokens", "error", "pattern"),
    [
        (np.zeros((2, 3), dtype=np.float32), TypeError, "GPT.forward: tokens must be integer"),
        (np.zeros(5, dtype=np.int64), ValueError, r"shape \(B, T\).*got shape \(5,\)"),
        (np.zeros((2, 0), dtype=np.int64), ValueError, r"got shape \(2, 0\)"),
        (np.zeros((1, 2, 3), dtype=np.int64), ValueError, r"got shape \(1, 2, 3\)"),
        (np.zeros((1, 17), dtype=np.int64), ValueError, "T=17 exceeds max_seq_len=16"),
        (np.array([[1, 20]]), IndexError, "token id 20 is out of range for vocab_size=20"),
        (np.array([[-1, 2]]), IndexError, "token id -1 is out of range"),
    ],
)
def test_bad_tokens_are_errors(tokens, error, pattern):
    with pytest.raises(error, match=pattern):
        tiny_gpt()(tokens)


def finite_difference_errors(model, loss_fn, per_parameter, seed, eps=1e-6):
    """Per parameter, the worst |analytic - numeric| / (1e-7 + 1e-4 |numeric|) over a
    random subset of its entries: at most 1 means every checked entry matches."""
    model.zero_grad()
    loss_fn().backward()
    rng = np.random.default_rng(seed)
    report = {}
    for name, parameter in model.named_parameters():
        flat = parameter.data.reshape(-1)  # a view: writes reach the parameter
        largest = np.argmax(np.abs(parameter.grad.data.reshape(-1)))
        picks = [largest, *rng.choice(flat.size, size=min(per_parameter, flat.size), replace=False)]
        worst = 0.0
        for i in picks:
            original = flat[i]
            flat[i] = original + eps
            with no_grad():
                plus = loss_fn().item()
            flat[i] = original - eps
            with no_grad():
                minus = loss_fn().item()
            flat[i] = original
            numeric = (plus - minus) / (2 * eps)
            analytic = parameter.grad.data.reshape(-1)[i]
            worst = max(worst, abs(analytic - numeric) / (1e-7 + 1e-4 * abs(numeric)))
        report[name] = worst
    return report


def test_end_to_end_gradients_match_finite_differences():
    """Every parameter of a tiny GPT: random entries against central differences."""
    model = tiny_gpt(max_seq_len=8).double()
    rng = np.random.default_rng(3)
    for parameter in model.parameters():  # larger weights than the init: non-trivial curvature
        parameter.data += rng.standard_normal(parameter.shape) * 0.1
    tokens = rng.integers(0, 20, size=(2, 8))
    targets = rng.integers(0, 20, size=(2, 8))
    report = finite_difference_errors(model, lambda: cross_entropy(model(tokens), targets), 6, 4)
    assert len(report) == 37
    bad = {name: err for name, err in report.items() if err > 1}
    assert not bad, bad
    assert all(np.abs(p.grad.data).max() > 0 for p in model.parameters())
