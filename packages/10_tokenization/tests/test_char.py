"""CharTokenizer: sorted vocabulary, exact round trips, unknown characters and ids."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradstack.tokenization import CharTokenizer

TRAIN = "hello, world! 日本 😀\n"


def test_vocabulary_is_sorted_and_deterministic():
    tok = CharTokenizer().train("banana")
    assert tok.tokens == ["a", "b", "n"]
    assert tok.vocab_size == 3
    assert tok.encode("banana") == [1, 0, 2, 0, 2, 0]
    assert CharTokenizer().train("nabana").tokens == tok.tokens


def test_train_returns_self_and_retraining_replaces_the_vocabulary():
    tok = CharTokenizer()
    assert tok.train("ab") is tok
    tok.train("xyz")
    assert tok.tokens == ["x", "y", "z"]


@given(st.text(alphabet=sorted(set(TRAIN))))
def test_round_trip_over_text_from_the_vocabulary(text):
    tok = CharTokenizer().train(TRAIN)
    ids = tok.encode(text)
    assert len(ids) == len(text)
    assert tok.decode(ids) == text


def test_empty_string():
    tok = CharTokenizer().train(TRAIN)
    assert tok.encode("") == []
    assert tok.decode([]) == ""
    assert CharTokenizer().train("").vocab_size == 0


def test_unknown_character_names_the_character_and_position():
    tok = CharTokenizer().train("abc")
    with pytest.raises(ValueError, match=r"character 'z' \(U\+007A\) at position 2"):
        tok.encode("abzc")


def test_untrained_tokenizer_says_to_train():
    with pytest.raises(ValueError, match="has not been trained"):
        CharTokenizer().encode("a")


def test_unk_token_takes_id_zero_and_absorbs_unknown_characters():
    tok = CharTokenizer(unk="<unk>").train("cab")
    assert tok.tokens == ["<unk>", "a", "b", "c"]
    assert tok.unk_id == 0
    assert tok.unk == "<unk>"
    assert tok.vocab_size == 4
    assert tok.encode("abzc?") == [1, 2, 0, 3, 0]
    assert tok.decode([1, 0, 3]) == "a<unk>c"


def test_unk_that_is_also_a_training_character_is_one_token():
    tok = CharTokenizer(unk="?").train("a?b")
    assert tok.tokens == ["?", "a", "b"]
    assert tok.encode("a?z") == [1, 0, 0]


@pytest.mark.parametrize("bad", ["", 3])
def test_bad_unk_is_rejected(bad):
    with pytest.raises(ValueError, match="unk must be None or a non-empty string"):
        CharTokenizer(unk=bad)


@pytest.mark.parametrize("bad_id", [3, -1, 100, "a", None, [0], True, 1.0, 0.5])
def test_unknown_ids_in_decode_raise(bad_id):
    tok = CharTokenizer().train("abc")
    with pytest.raises(
        ValueError, match=rf"id {re.escape(repr(bad_id))} at position 1 .*vocab_size 3"
    ):
        tok.decode([0, bad_id, 1])


def test_non_string_input_is_a_type_error():
    with pytest.raises(TypeError, match="text must be a str"):
        CharTokenizer().train(b"abc")
    with pytest.raises(TypeError, match="text must be a str"):
        CharTokenizer().train("abc").encode(["a"])
