"""GPT.save / GPT.load: round trip, atomic writes, damaged and foreign files."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from gradstack.tensor import manual_seed, no_grad
from gradstack.transformer import GPT


@pytest.fixture
def model() -> GPT:
    manual_seed(0)
    return GPT(vocab_size=20, embed_dim=16, num_layers=2, num_heads=4, max_seq_len=12, dropout=0.1)


def logits_of(model: GPT, tokens: np.ndarray) -> np.ndarray:
    model.eval()
    with no_grad():
        return model(tokens).data


def test_round_trip_gives_identical_logits(model, tmp_path):
    rng = np.random.default_rng(0)
    for parameter in model.parameters():  # not just the init: every tensor must travel
        parameter.data += rng.standard_normal(parameter.shape).astype(np.float32)
    model.save(tmp_path / "ckpt")
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["config.json", "model.npz"]
    loaded = GPT.load(tmp_path / "ckpt")
    assert loaded.config == model.config
    tokens = rng.integers(0, 20, size=(2, 12))
    np.testing.assert_array_equal(logits_of(loaded, tokens), logits_of(model, tokens))
    for (name, a), (other, b) in zip(model.named_parameters(), loaded.named_parameters()):
        assert name == other and a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a.data, b.data)


def test_saved_files_are_plain_json_and_npz(model, tmp_path):
    model.save(tmp_path)
    payload = json.loads((tmp_path / "config.json").read_text())
    assert payload["format"] == "gradstack-gpt"
    assert payload["config"] == model.config.to_dict()
    with np.load(tmp_path / "model.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(model.state_dict())


def test_float64_model_round_trip(model, tmp_path):
    model.double()
    model.save(tmp_path)
    loaded = GPT.load(tmp_path)
    assert all(p.dtype == np.float64 for p in loaded.parameters())
    tokens = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(logits_of(loaded, tokens), logits_of(model, tokens))


def test_saving_again_replaces_and_leaves_no_temporary_files(model, tmp_path):
    model.save(tmp_path)
    model.lm_head.weight.data += 1.0
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.npz"]
    np.testing.assert_array_equal(GPT.load(tmp_path).lm_head.weight.data, model.lm_head.weight.data)


def test_truncated_weights_are_a_value_error_naming_the_file(model, tmp_path):
    model.save(tmp_path)
    weights = tmp_path / "model.npz"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"model\.npz is not a readable \.npz"):
        GPT.load(tmp_path)


def test_garbage_weights(model, tmp_path):
    model.save(tmp_path)
    (tmp_path / "model.npz").write_bytes(b"definitely not numpy" * 10)
    with pytest.raises(ValueError, match=r"model\.npz"):
        GPT.load(tmp_path)


def test_single_array_instead_of_archive(model, tmp_path):
    model.save(tmp_path)
    with open(tmp_path / "model.npz", "wb") as stream:
        np.save(stream, np.zeros(3))
    with pytest.raises(ValueError, match=r"model\.npz.*single array"):
        GPT.load(tmp_path)


def test_pickled_arrays_are_refused(model, tmp_path):
    model.save(tmp_path)
    state = model.state_dict()
    state["token_embedding.weight"] = np.array([{"evil": 1}], dtype=object)
    np.savez(tmp_path / "model.npz", **state)
    with pytest.raises(ValueError, match=r"model\.npz"):
        GPT.load(tmp_path)


def test_weights_of_another_model_are_refused(model, tmp_path):
    model.save(tmp_path)
    manual_seed(0)
    GPT(vocab_size=21, embed_dim=16, num_layers=2, num_heads=4, max_seq_len=12).save(tmp_path / "x")
    (tmp_path / "x" / "model.npz").replace(tmp_path / "model.npz")
    with pytest.raises(ValueError, match=r"model\.npz does not fit the model.*token_embedding"):
        GPT.load(tmp_path)
    state = model.state_dict()
    del state["lm_head.weight"]
    np.savez(tmp_path / "model.npz", **state)
    with pytest.raises(ValueError, match=r"model\.npz does not fit.*lm_head\.weight"):
        GPT.load(tmp_path)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("{not json", r"config\.json is not valid JSON"),
        ('{"vocab_size": 3}', r"config\.json is not a gradstack GPT config"),
        ("[1, 2]", r"config\.json is not a gradstack GPT config"),
        ('{"format": "gradstack-gpt", "format_version": 99, "config": {}}', "format_version 99"),
        (
            '{"format": "gradstack-gpt", "format_version": 1, "config": {"vocab_size": 3}}',
            r"config\.json: not a valid GPTConfig",
        ),
    ],
)
def test_foreign_or_damaged_config(model, tmp_path, content, pattern):
    model.save(tmp_path)
    (tmp_path / "config.json").write_text(content)
    with pytest.raises(ValueError, match=pattern):
        GPT.load(tmp_path)


def test_binary_config_and_missing_files(model, tmp_path):
    model.save(tmp_path)
    (tmp_path / "config.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match=r"config\.json is not valid JSON"):
        GPT.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        GPT.load(tmp_path / "nowhere")
    model.save(tmp_path / "partial")
    (tmp_path / "partial" / "model.npz").unlink()
    with pytest.raises(FileNotFoundError, match=r"model\.npz"):
        GPT.load(tmp_path / "partial")


def test_zip_with_a_corrupt_member(model, tmp_path):
    model.save(tmp_path)
    with zipfile.ZipFile(tmp_path / "model.npz", "w") as archive:
        archive.writestr("lm_head.weight.npy", b"\x93NUMPY garbage")
    with pytest.raises(ValueError, match=r"model\.npz"):
        GPT.load(tmp_path)
