"""The pieces behind the command: streaming decode, data split and batches, check rows."""

from __future__ import annotations

import argparse
import math
import os
from types import SimpleNamespace

import numpy as np
import pytest

from gradstack.cli.data import Batches, eval_windows, split_text, unigram_loss
from gradstack.cli.errors import UsageError
from gradstack.cli.gradient_report.rows import gradient_rows, value_rows
from gradstack.cli.settings import DEFAULTS, new_settings, resumed_settings
from gradstack.cli.textstream import StreamingDecoder
from gradstack.tensor import GradCase, Tensor, ValueCase
from gradstack.tokenization import BPETokenizer, CharTokenizer


def test_streaming_decoder_waits_for_whole_utf8_characters() -> None:
    tokenizer = BPETokenizer()  # no merges: one token per UTF-8 byte
    text = "a€b😀 c"
    decoder = StreamingDecoder(tokenizer)
    pieces = [decoder.feed(i) for i in tokenizer.encode(text)]
    assert "".join(pieces) + decoder.finish() == text
    assert pieces[:5] == ["a", "", "", "€", "b"]  # € is three bytes
    assert all("\ufffd" not in piece for piece in pieces)


def test_streaming_decoder_with_merged_tokens_and_invalid_bytes() -> None:
    tokenizer = BPETokenizer().train("héllo wörld " * 50, 266)
    decoder = StreamingDecoder(tokenizer)
    ids = tokenizer.encode("wörld héllo") + [0xC3]  # ends in half a character
    pieces = "".join(decoder.feed(i) for i in ids)
    assert pieces == "wörld héllo"
    assert decoder.finish() == "\ufffd"


def test_streaming_decoder_char_tokenizer() -> None:
    tokenizer = CharTokenizer().train("abc\n")
    decoder = StreamingDecoder(tokenizer)
    assert [decoder.feed(i) for i in tokenizer.encode("cab\n")] == ["c", "a", "b", "\n"]


def test_split_holds_out_the_last_ten_percent() -> None:
    train, val = split_text("0123456789" * 10)
    assert len(val) == 10 and train + val == "0123456789" * 10
    assert split_text("abc")[1] == "c"


def test_batches_are_shifted_windows_drawn_from_the_generator() -> None:
    tokens = np.arange(100, dtype=np.int64)
    batches = Batches(tokens, context=8, batch_size=5)
    x, y = batches.sample(np.random.default_rng(0))
    assert x.shape == y.shape == (5, 8)
    np.testing.assert_array_equal(y, x + 1)  # targets are the next tokens
    np.testing.assert_array_equal(x[:, 1:], x[:, :-1] + 1)  # contiguous windows
    again = batches.sample(np.random.default_rng(0))[0]
    np.testing.assert_array_equal(x, again)
    last = Batches(np.arange(9), context=8, batch_size=3).sample(np.random.default_rng(1))
    np.testing.assert_array_equal(last[1], np.tile(np.arange(1, 9), (3, 1)))


def test_eval_windows_are_fixed_and_spread_out() -> None:
    x, y = eval_windows(np.arange(1000), context=10, max_windows=5)
    assert x.shape == (5, 10)
    np.testing.assert_array_equal(x[:, 0], [0, 240, 490, 740, 980])
    np.testing.assert_array_equal(y, x + 1)
    assert eval_windows(np.arange(35), 10, 99)[0].shape == (3, 10)


def test_unigram_loss_is_the_cross_entropy_of_frequencies() -> None:
    train = np.array([0, 0, 0, 1])
    val = np.array([0, 1])
    probabilities = np.array([4, 2, 1]) / 7  # counts + 1 over a vocabulary of 3
    expected = -(math.log(probabilities[0]) + math.log(probabilities[1])) / 2
    assert unigram_loss(train, val, vocab_size=3) == pytest.approx(expected)


def test_resume_keeps_saved_settings_and_rejects_model_changes() -> None:
    saved = {**DEFAULTS, "min_lr": 3e-4, "warmup": 100, "shards": 2}
    unset = dict.fromkeys(saved)
    given = argparse.Namespace(**{**unset, "steps": 2000})
    settings = resumed_settings(given, saved)
    assert settings.steps == 2000 and settings.layers == DEFAULTS["layers"]
    changed = argparse.Namespace(**{**unset, "embed_dim": 64})
    with pytest.raises(UsageError, match="--embed-dim 64 differs"):
        resumed_settings(changed, saved)


def _table(*cases: GradCase) -> SimpleNamespace:
    """A gradient-check table like the ones the packages export."""
    return SimpleNamespace(GRADCHECK_CASES=list(cases), TORCH_CASES=[])


def test_a_broken_rule_fails_its_row() -> None:
    def cut(x: Tensor) -> Tensor:
        return x.detach() * x  # half the gradient is cut off

    constant = GradCase("detach", "constant", lambda: (cut, [Tensor(np.ones(3), "float64")]))
    (row,) = gradient_rows("demo", _table(constant), None)
    assert row.total == 1  # the input does not even require grad: an error, not a pass
    assert not row.ok
    x = Tensor(np.linspace(0.5, 1.5, 4), dtype="float64", requires_grad=True)
    (row,) = gradient_rows("demo", _table(GradCase("detach", "leaf", lambda: (cut, [x]))), None)
    assert not row.ok and row.passed == 0 and "analytic" in row.note
    square = GradCase("square", "leaf", lambda: (lambda t: t * t, [x]))
    (good,) = gradient_rows("demo", _table(square), None)
    assert good.ok and good.passed == 1 and good.worst_rel < 1e-6


def test_value_rows_group_by_component_and_fail_past_the_tolerance() -> None:
    table = SimpleNamespace(
        VALUE_CASES=[
            ValueCase("exact", "zero", lambda: 0.0),
            ValueCase("exact", "tiny", lambda: 1e-3, tolerance=1e-2),
            ValueCase("loose", "too far", lambda: 0.5, tolerance=1e-2),
            ValueCase("torch only", "skipped", lambda torch: 0.0, needs_torch=True),
        ]
    )
    exact, loose = value_rows("demo", table, None)
    assert (exact.component, exact.passed, exact.total, exact.ok) == ("exact", 2, 2, True)
    assert (loose.passed, loose.total, loose.ok) == (0, 1, False)
    assert loose.worst_rel == 0.5 and "too far" in loose.note


def test_shards_default_follows_the_batch_with_or_without_dropout() -> None:
    unset = dict.fromkeys(DEFAULTS)
    large = new_settings(argparse.Namespace(**unset))  # config B: 32 x 64 x 128
    assert large.shards == min(2, os.cpu_count() or 1)
    small = new_settings(argparse.Namespace(**{**unset, "batch_size": 4, "embed_dim": 32}))
    assert small.shards == 1
    with_dropout = new_settings(argparse.Namespace(**{**unset, "dropout": 0.1}))
    assert with_dropout.shards == large.shards
    pinned = new_settings(argparse.Namespace(**{**unset, "dropout": 0.1, "shards": 2}))
    assert pinned.shards == 2
    with pytest.raises(UsageError, match="--shards 64 is more than --batch-size 32"):
        new_settings(argparse.Namespace(**{**unset, "shards": 64}))
