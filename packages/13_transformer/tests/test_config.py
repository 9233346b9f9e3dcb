"""GPTConfig: validation and the dict round trip used by config.json."""

from __future__ import annotations

import pytest

from gradstack.transformer import GPTConfig


def test_defaults_and_round_trip():
    config = GPTConfig(vocab_size=20, embed_dim=16, num_layers=2, num_heads=4)
    assert config.max_seq_len == 1024 and config.dropout == 0.0 and config.head_dim == 4
    data = config.to_dict()
    assert data == {
        "vocab_size": 20,
        "embed_dim": 16,
        "num_layers": 2,
        "num_heads": 4,
        "max_seq_len": 1024,
        "dropout": 0.0,
    }
    assert GPTConfig.from_dict(data) == config


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"vocab_size": 0}, ValueError, "GPTConfig: vocab_size must be a positive int, got 0"),
        ({"embed_dim": 2.5}, TypeError, "GPTConfig: embed_dim must be an int, got float"),
        ({"num_heads": 3}, ValueError, "embed_dim 16 is not divisible by num_heads 3"),
        ({"max_seq_len": -1}, ValueError, "max_seq_len must be a positive int, got -1"),
        ({"dropout": 1.0}, ValueError, r"GPTConfig: dropout must be in \[0, 1\), got 1.0"),
        ({"dropout": "0.1"}, TypeError, "GPTConfig: dropout must be a number, got str"),
    ],
)
def test_bad_values_are_errors(kwargs, error, pattern):
    fields = {"vocab_size": 20, "embed_dim": 16, "num_layers": 2, "num_heads": 4, **kwargs}
    with pytest.raises(error, match=pattern):
        GPTConfig(**fields)


def test_from_dict_rejects_foreign_data():
    with pytest.raises(ValueError, match=r"cfg: unknown GPTConfig fields \['colour'\]"):
        GPTConfig.from_dict(
            {"vocab_size": 2, "embed_dim": 4, "num_layers": 1, "num_heads": 1, "colour": 1},
            source="cfg",
        )
    with pytest.raises(ValueError, match="cfg: not a valid GPTConfig"):
        GPTConfig.from_dict({"vocab_size": 2}, source="cfg")
    with pytest.raises(ValueError, match="cfg: expected a JSON object, got list"):
        GPTConfig.from_dict([1, 2], source="cfg")
