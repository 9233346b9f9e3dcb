"""Pre-tokenization: chunks are GPT-2-like and always concatenate back to the text."""

from hypothesis import given
from hypothesis import strategies as st

from gradstack.tokenization import pretokenize
from gradstack.tokenization.pretokenize import MAX_RUN

ANY_TEXT = st.text(st.characters(exclude_categories=()))  # surrogates included


@given(ANY_TEXT)
def test_chunks_concatenate_to_the_text(text):
    chunks = pretokenize(text)
    assert "".join(chunks) == text
    assert all(chunks)


def test_words_keep_their_leading_space():
    assert pretokenize("Hello world, it's 2024!!  ok\n") == [
        "Hello",
        " world",
        ",",
        " it",
        "'s",
        " 2024",
        "!!",
        " ",
        " ok",
        "\n",
    ]


def test_underscores_digits_and_emoji_are_their_own_chunks():
    assert pretokenize("__init__ 3.14 😀👍x") == ["__", "init", "__", " 3", ".", "14", " 😀👍", "x"]


def test_empty_string_has_no_chunks():
    assert pretokenize("") == []


def test_runs_are_cut_after_max_run_characters():
    assert MAX_RUN == 64
    text = "a" * 150 + " " * 130 + "x" + " " + "7" * 70
    assert [len(c) for c in pretokenize(text)] == [64, 64, 22, 64, 64, 1, 2, 65, 6]
    assert "".join(pretokenize(text)) == text
