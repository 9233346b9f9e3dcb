"""BPETokenizer: merges checked against hand computation and a naive reference trainer."""

import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstack.tokenization import BPETokenizer, pretokenize
from gradstack.tokenization.bpe_apply import _apply_long, _apply_short

ANY_TEXT = st.text(st.characters(exclude_categories=()))  # lone surrogates included
SMALL_ALPHABET = st.text(alphabet="ab c\n1!é😀", max_size=120)


def merge(word, pair, new_id):
    """Replace non-overlapping occurrences of ``pair`` left to right (reference version)."""
    out, i = [], 0
    while i < len(word):
        if tuple(word[i : i + 2]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def to_words(text):
    return [list(c.encode("utf-8", "surrogatepass")) for c in pretokenize(text)]


def naive_merges(text, num_merges):
    """The textbook loop: recount every pair after every merge; ties to the smallest pair."""
    words = to_words(text)
    merges = []
    for k in range(num_merges):
        counts = Counter(p for w in words for p in zip(w, w[1:]))
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(best)
        words = [merge(w, best, 256 + k) for w in words]
    return merges


def naive_encode(text, merges):
    """Apply every merge, in the order learned, to every chunk."""
    out = []
    for w in to_words(text):
        for k, pair in enumerate(merges):
            w = merge(w, pair, 256 + k)
        out.extend(w)
    return out


def test_hand_computed_merges_of_aaabdaaabac():
    tok = BPETokenizer().train("aaabdaaabac", vocab_size=260)
    # aa (count 4, overlaps counted) -> 256; then ab and (256, 97) tie at 2: ab is smaller
    # -> 257; (256, 257) = 2 -> 258; all pairs tie at 1, (97, 99) = "ac" is smallest -> 259.
    assert tok.merges == [(97, 97), (97, 98), (256, 257), (97, 99)]
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 259]
    assert tok.token_bytes(258) == b"aaab"
    assert tok.vocab_size == 260


def test_ties_go_to_the_smallest_pair_of_ids_not_the_leftmost():
    tok = BPETokenizer().train("abcd", vocab_size=259)
    # all pairs count 1: ab wins; then (256, 99) and (99, 100) tie: cd is smaller.
    assert tok.merges == [(97, 98), (99, 100), (256, 257)]
    assert tok.encode("abcd") == [258]


def test_higher_count_beats_a_smaller_pair():
    tok = BPETokenizer().train("ab yzyz", vocab_size=257)
    assert tok.merges == [(121, 122)]  # yz occurs twice; ab and " y" once


def test_merges_never_cross_chunks():
    assert pretokenize("a.a.a.a.") == ["a", ".", "a", ".", "a", ".", "a", "."]
    with pytest.raises(ValueError, match="supports only 0 "):
        BPETokenizer().train("a.a.a.a.", vocab_size=257)
    tok = BPETokenizer().train("a.a. a.", vocab_size=257)
    assert tok.merges == [(32, 97)]  # " a" is the only pair inside a chunk


def test_training_is_deterministic():
    text = "the cat sat on the mat with the hat " * 20
    a = BPETokenizer().train(text, 273)
    b = BPETokenizer().train(text, 273)
    assert a.merges == b.merges
    # "at" and "th" both occur 80 times: (97, 116) < (116, 104); then "the" 60 > " th" 59.
    assert a.merges[:4] == [(97, 116), (116, 104), (257, 101), (32, 258)]
    assert a.token_bytes(259) == b" the"


@settings(max_examples=150, deadline=None)
@given(SMALL_ALPHABET, st.integers(0, 40))
def test_incremental_training_matches_the_naive_loop(text, num_merges):
    expected = naive_merges(text, num_merges)
    if len(expected) < num_merges:
        with pytest.raises(ValueError, match=f"supports only {len(expected)} "):
            BPETokenizer().train(text, 256 + num_merges)
    else:
        tok = BPETokenizer().train(text, 256 + num_merges)
        assert tok.merges == expected
        assert tok.vocab_size == 256 + num_merges


@settings(max_examples=100, deadline=None)
@given(SMALL_ALPHABET, SMALL_ALPHABET)
def test_encoding_matches_applying_merges_in_order(train_text, text):
    tok = BPETokenizer().train(train_text * 3, 256 + len(naive_merges(train_text * 3, 30)))
    assert tok.encode(text) == naive_encode(text, tok.merges)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="ab", min_size=1, max_size=300), st.integers(0, 20))
def test_long_chunk_heap_agrees_with_the_scan(text, num_merges):
    merges = naive_merges("aab abba bbab aaaab " * 3, 20)[:num_merges]
    merge_ids = {pair: 256 + k for k, pair in enumerate(merges)}
    data = list(text.encode())
    assert _apply_long(list(data), merge_ids) == _apply_short(list(data), merge_ids)
    assert _apply_short(list(data), merge_ids) == naive_encode(text, merges)


@pytest.fixture(scope="module")
def trained():
    text = "Hello world! Tokenizers split text. 日本語のテキスト 😀😀 " * 10 + "a" * 200
    return BPETokenizer().train(text, 310)


@given(ANY_TEXT)
def test_round_trip_of_any_string(trained, text):
    assert trained.decode(trained.encode(text)) == text


@pytest.mark.parametrize(
    "text", ["", "\x00\x01\x7f\n\t", "😀👍🏽", "日本語", "\ud800", "a\udfffb", "\ud83d\ude00"]
)
def test_round_trip_of_awkward_strings(trained, text):
    assert trained.decode(trained.encode(text)) == text


def test_lone_surrogate_is_encoded_as_its_surrogatepass_bytes():
    tok = BPETokenizer()
    assert tok.encode("\ud800") == [0xED, 0xA0, 0x80]
    assert tok.decode([0xED, 0xA0, 0x80]) == "\ud800"


def test_untrained_tokenizer_is_plain_bytes():
    tok = BPETokenizer()
    assert tok.vocab_size == 256
    assert tok.encode("hé") == [104, 0xC3, 0xA9]
    assert tok.merges == []


def test_empty_string(trained):
    assert trained.encode("") == []
    assert trained.decode([]) == ""
    assert BPETokenizer().train("", 256).vocab_size == 256


def test_long_runs_compress(trained):
    ids = trained.encode("a" * 200)
    assert trained.decode(ids) == "a" * 200
    assert len(ids) < 20


def test_invalid_utf8_decodes_to_replacement_characters():
    tok = BPETokenizer()
    assert tok.decode([0xFF, 97, 0xC3]) == "\ufffda\ufffd"
    assert tok.decode_bytes([0xFF, 97]) == b"\xffa"


@pytest.mark.parametrize("vocab_size", [288, 270, 257, 256])
def test_vocab_size_is_exact(vocab_size):
    tok = BPETokenizer().train("the quick brown fox jumps over the lazy dog " * 5, vocab_size)
    assert tok.vocab_size == vocab_size
    assert len(tok.merges) == vocab_size - 256


def test_too_large_vocab_reports_how_many_merges_were_possible():
    tok = BPETokenizer().train("ab", 257)
    with pytest.raises(ValueError, match=r"needs 2 merges, but the text supports only 1 .*<= 257"):
        tok.train("ab", 258)
    assert tok.merges == [(97, 98)]  # a failed train leaves the tokenizer unchanged


def test_vocab_size_below_256_is_rejected():
    with pytest.raises(ValueError, match="vocab_size 255 is below 256"):
        BPETokenizer().train("abc", 255)


def test_bad_argument_types():
    with pytest.raises(TypeError, match="vocab_size must be an int"):
        BPETokenizer().train("abc", 300.0)
    with pytest.raises(TypeError, match="text must be a str"):
        BPETokenizer().encode(b"abc")


@pytest.mark.parametrize("bad_id", [310, -1, 10**9, "a", None, True, False, 1.0])
def test_unknown_ids_in_decode_raise(trained, bad_id):
    pattern = rf"id {re.escape(repr(bad_id))} at position 2 .*vocab_size 310, valid ids 0\.\.309"
    with pytest.raises(ValueError, match=pattern):
        trained.decode([1, 2, bad_id])


def test_retraining_clears_the_encoding_cache():
    tok = BPETokenizer().train("ab ab ab", 257)
    assert tok.encode("ab") == [256]
    tok.train("cd cd cd", 257)
    assert tok.encode("ab") == [97, 98]


def test_long_chunks_encode_like_short_ones():
    text = "日本語のテキスト" * 30 + " " + "ab" * 100
    tok = BPETokenizer().train(text, 280)
    assert max(len(c.encode()) for c in pretokenize(text)) > 32  # the heap path is used
    assert tok.encode(text) == naive_encode(text, tok.merges)
    assert tok.decode(tok.encode(text)) == text
