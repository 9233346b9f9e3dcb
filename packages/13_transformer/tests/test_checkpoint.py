"""GPT.save / GPT.load: round trip, generations, damaged and foreign files."""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
import zipfile

import numpy as np
import pytest

from gradstack.tensor import manual_seed, no_grad
from gradstack.transformer import GPT, CheckpointError, CheckpointMissing


def save_flat(model, directory):
    """The layout older versions wrote: config.json (no hashes) and model.npz in the folder."""
    generation = model.save(directory / "saved")
    meta = json.loads((generation / "config.json").read_text())
    del meta["files"]
    (directory / "config.json").write_text(json.dumps(meta))
    (directory / "model.npz").write_bytes((generation / "model.npz").read_bytes())
    shutil.rmtree(directory / "saved")


def current(directory):
    """The folder of the current generation (named by CURRENT)."""
    return directory / (directory / "CURRENT").read_text().strip()


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
    generation = model.save(tmp_path / "ckpt")
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["CURRENT", "gen-000001"]
    assert generation == current(tmp_path / "ckpt")
    assert sorted(p.name for p in generation.iterdir()) == ["config.json", "model.npz"]
    loaded = GPT.load(tmp_path / "ckpt")
    assert loaded.config == model.config
    tokens = rng.integers(0, 20, size=(2, 12))
    np.testing.assert_array_equal(logits_of(loaded, tokens), logits_of(model, tokens))
    for (name, a), (other, b) in zip(model.named_parameters(), loaded.named_parameters()):
        assert name == other and a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a.data, b.data)


def test_saved_files_are_plain_json_and_npz(model, tmp_path):
    generation = model.save(tmp_path)
    payload = json.loads((generation / "config.json").read_text())
    assert payload["format"] == "gradstack-gpt"
    assert payload["config"] == model.config.to_dict()
    weights = (generation / "model.npz").read_bytes()
    assert payload["files"] == {"model.npz": hashlib.sha256(weights).hexdigest()}
    with np.load(generation / "model.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(model.state_dict())


def test_float64_model_round_trip(model, tmp_path):
    model.double()
    model.save(tmp_path)
    loaded = GPT.load(tmp_path)
    assert all(p.dtype == np.float64 for p in loaded.parameters())
    tokens = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(logits_of(loaded, tokens), logits_of(model, tokens))


def test_each_save_is_a_new_generation_and_two_are_kept(model, tmp_path):
    model.save(tmp_path)
    for shift in (1.0, 2.0):
        model.lm_head.weight.data += shift
        model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CURRENT", "gen-000002", "gen-000003"]
    assert (tmp_path / "CURRENT").read_text() == "gen-000003\n"
    np.testing.assert_array_equal(GPT.load(tmp_path).lm_head.weight.data, model.lm_head.weight.data)


def test_a_folder_of_the_older_flat_layout_still_loads(model, tmp_path):
    (tmp_path / "old").mkdir()
    save_flat(model, tmp_path / "old")
    loaded = GPT.load(tmp_path / "old")
    np.testing.assert_array_equal(loaded.lm_head.weight.data, model.lm_head.weight.data)


def test_weights_of_another_save_are_refused_by_their_hash(model, tmp_path):
    first = model.save(tmp_path)
    model.lm_head.weight.data += 1.0
    second = model.save(tmp_path)
    (second / "model.npz").write_bytes((first / "model.npz").read_bytes())
    with pytest.raises(CheckpointError, match=r"model\.npz is not the file config\.json was saved"):
        GPT.load(tmp_path)


def test_without_a_pointer_the_newest_generation_is_current(model, tmp_path):
    model.save(tmp_path)
    model.lm_head.weight.data += 1.0
    model.save(tmp_path)
    (tmp_path / "CURRENT").unlink()
    np.testing.assert_array_equal(GPT.load(tmp_path).lm_head.weight.data, model.lm_head.weight.data)


def test_a_pointer_to_a_missing_generation_is_an_error(model, tmp_path):
    model.save(tmp_path)
    (tmp_path / "CURRENT").write_text("gen-000009\n")
    with pytest.raises(CheckpointError, match="CURRENT names gen-000009, which is missing"):
        GPT.load(tmp_path)
    (tmp_path / "CURRENT").write_text("../../etc\n")
    with pytest.raises(CheckpointError, match="CURRENT does not name a generation"):
        GPT.load(tmp_path)


def test_truncated_weights_are_a_value_error_naming_the_file(model, tmp_path):
    save_flat(model, tmp_path)
    weights = tmp_path / "model.npz"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"model\.npz is not a readable \.npz"):
        GPT.load(tmp_path)


def test_garbage_weights(model, tmp_path):
    save_flat(model, tmp_path)
    (tmp_path / "model.npz").write_bytes(b"definitely not numpy" * 10)
    with pytest.raises(ValueError, match=r"model\.npz"):
        GPT.load(tmp_path)


def test_single_array_instead_of_archive(model, tmp_path):
    save_flat(model, tmp_path)
    with open(tmp_path / "model.npz", "wb") as stream:
        np.save(stream, np.zeros(3))
    with pytest.raises(ValueError, match=r"model\.npz.*single array"):
        GPT.load(tmp_path)


def test_pickled_arrays_are_refused(model, tmp_path):
    save_flat(model, tmp_path)
    state = model.state_dict()
    state["token_embedding.weight"] = np.array([{"evil": 1}], dtype=object)
    np.savez(tmp_path / "model.npz", **state)
    with pytest.raises(ValueError, match=r"model\.npz"):
        GPT.load(tmp_path)


def test_weights_of_another_model_are_refused(model, tmp_path):
    save_flat(model, tmp_path)
    manual_seed(0)
    GPT(vocab_size=21, embed_dim=16, num_layers=2, num_heads=4, max_seq_len=12).save(tmp_path / "x")
    (current(tmp_path / "x") / "model.npz").replace(tmp_path / "model.npz")
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
        ('{"vocab_size": 3}', r"config\.json is not a gradstack checkpoint"),
        ("[1, 2]", r"config\.json is not a gradstack checkpoint"),
        ('{"format": "gradstack-gpt", "format_version": 99, "config": {}}', "format_version 99"),
        (
            '{"format": "gradstack-gpt", "format_version": 1, "config": {"vocab_size": 3}}',
            r"config\.json: not a valid GPTConfig",
        ),
    ],
)
def test_foreign_or_damaged_config(model, tmp_path, content, pattern):
    save_flat(model, tmp_path)
    (tmp_path / "config.json").write_text(content)
    with pytest.raises(ValueError, match=pattern):
        GPT.load(tmp_path)


def test_binary_config_and_missing_files(model, tmp_path):
    save_flat(model, tmp_path)
    (tmp_path / "config.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match=r"config\.json is not valid JSON"):
        GPT.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such checkpoint directory"):
        GPT.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointMissing, match="holds no checkpoint"):
        GPT.load(tmp_path / "empty")
    (model.save(tmp_path / "partial") / "model.npz").unlink()
    with pytest.raises(FileNotFoundError, match=r"incomplete checkpoint: missing model\.npz"):
        GPT.load(tmp_path / "partial")
    with pytest.raises(ValueError, match=r"incomplete checkpoint: missing model\.npz"):
        GPT.load(tmp_path / "partial")


def test_zip_with_a_corrupt_member(model, tmp_path):
    save_flat(model, tmp_path)
    with zipfile.ZipFile(tmp_path / "model.npz", "w") as archive:
        archive.writestr("lm_head.weight.npy", b"\x93NUMPY garbage")
    with pytest.raises(ValueError, match=r"model\.npz"):
        GPT.load(tmp_path)


def test_a_save_failing_at_any_step_leaves_a_complete_checkpoint(model, tmp_path, monkeypatch):
    from gradstack.transformer import store

    old = model.lm_head.weight.data.copy()
    model.save(tmp_path / "base")
    model.save(tmp_path / "base")  # two generations: the next save also prunes one
    model.lm_head.weight.data += 1.0
    new = model.lm_head.weight.data.copy()
    monkeypatch.setattr(store, "_steps_taken", 0)
    monkeypatch.setenv(store.FAULT_VARIABLE, "eio:0")  # counts the steps, never fires
    shutil.copytree(tmp_path / "base", tmp_path / "count")
    model.save(tmp_path / "count")
    steps = store._steps_taken
    # mkdir, 2 x (create, fsync), fsync folder, rename, fsync DIR, CURRENT: fsync, replace,
    # fsync DIR; remove the oldest generation
    assert steps == 12
    outcomes = []
    for at in range(1, steps + 1):
        folder = tmp_path / f"fail{at}"
        shutil.copytree(tmp_path / "base", folder)
        monkeypatch.setattr(store, "_steps_taken", 0)
        monkeypatch.setenv(store.FAULT_VARIABLE, f"enospc:{at}")
        with pytest.raises(OSError, match="No space left") as info:
            model.save(folder)
        assert info.value.errno == errno.ENOSPC
        monkeypatch.delenv(store.FAULT_VARIABLE)
        weights = GPT.load(folder).lm_head.weight.data
        outcomes.append("new" if np.array_equal(weights, new) else "old")
        assert np.array_equal(weights, new if outcomes[-1] == "new" else old)
        model.save(folder)  # the next save succeeds and cleans up after the failed one
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]
        assert len([p for p in folder.iterdir() if p.name.startswith("gen-")]) == 2
    # the commit is the pointer's rename: failures before it keep the old save
    assert outcomes == ["old"] * 10 + ["new"] * 2
