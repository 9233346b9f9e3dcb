"""Saving and loading: JSON with a header, atomic writes, clear errors for bad files."""

import json
import re

import pytest

from gradstack.tokenization import BPETokenizer, CharTokenizer, jsonio, load_tokenizer
from gradstack.tokenization.pretokenize import PATTERN

TEXT = "Tokenizers turn text into ids. 日本語 😀 \ud800 tabs\tand\nnewlines " * 5
SAMPLE = "Tokens, ids and text: 日本 😀 \ud800 unknown words like zebra\x00"


@pytest.fixture
def bpe():
    return BPETokenizer().train(TEXT, 300)


@pytest.fixture
def char():
    return CharTokenizer(unk="<unk>").train(TEXT)


def test_bpe_save_load_gives_identical_encodings(tmp_path, bpe):
    path = tmp_path / "bpe.json"
    bpe.save(path)
    loaded = BPETokenizer.load(path)
    assert loaded.merges == bpe.merges
    assert loaded.vocab_size == 300
    assert loaded.encode(SAMPLE) == bpe.encode(SAMPLE)
    assert loaded.decode(bpe.encode(SAMPLE)) == SAMPLE


def test_char_save_load_gives_identical_encodings(tmp_path, char):
    path = tmp_path / "char.json"
    char.save(str(path))
    loaded = CharTokenizer.load(str(path))
    assert loaded.tokens == char.tokens
    assert loaded.unk == "<unk>"
    assert loaded.encode(SAMPLE) == char.encode(SAMPLE)


def test_file_header(tmp_path, bpe, char):
    bpe.save(tmp_path / "b.json")
    char.save(tmp_path / "c.json")
    b = json.loads((tmp_path / "b.json").read_text())
    c = json.loads((tmp_path / "c.json").read_text())
    assert (b["format"], b["type"], b["version"], b["vocab_size"]) == (
        "gradstack-tokenizer",
        "bpe",
        1,
        300,
    )
    assert len(b["merges"]) == 44
    assert (c["format"], c["type"], c["version"], c["unk"]) == (
        "gradstack-tokenizer",
        "char",
        1,
        "<unk>",
    )


def test_load_tokenizer_dispatches_on_type(tmp_path, bpe, char):
    bpe.save(tmp_path / "b.json")
    char.save(tmp_path / "c.json")
    loaded_bpe = load_tokenizer(tmp_path / "b.json")
    loaded_char = load_tokenizer(tmp_path / "c.json")
    assert type(loaded_bpe) is BPETokenizer
    assert type(loaded_char) is CharTokenizer
    assert loaded_bpe.encode(SAMPLE) == bpe.encode(SAMPLE)
    assert loaded_char.encode(SAMPLE) == char.encode(SAMPLE)


def test_saving_overwrites_and_leaves_no_temporary_files(tmp_path, bpe):
    path = tmp_path / "tok.json"
    BPETokenizer().save(path)
    bpe.save(path)
    assert BPETokenizer.load(path).vocab_size == 300
    assert [p.name for p in tmp_path.iterdir()] == ["tok.json"]


def test_a_crash_while_saving_keeps_the_old_file(tmp_path, bpe, monkeypatch):
    path = tmp_path / "tok.json"
    bpe.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(jsonio.json, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        BPETokenizer().save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["tok.json"]


def _write(tmp_path, content):
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def _without(d, key):
    return {k: v for k, v in d.items() if k != key}


HEADER = {"format": "gradstack-tokenizer", "version": 1}
GOOD_BPE = {**HEADER, "type": "bpe", "vocab_size": 257, "pattern": PATTERN, "merges": [[97, 98]]}
GOOD_CHAR = {**HEADER, "type": "char", "unk": "<unk>", "tokens": ["<unk>", "a", "b"]}


def test_the_good_files_used_below_load(tmp_path):
    assert BPETokenizer.load(_write(tmp_path, GOOD_BPE)).encode("ab") == [256]
    assert CharTokenizer.load(_write(tmp_path, GOOD_CHAR)).encode("abc") == [1, 2, 0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json {", "invalid JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        ([1, 2, 3], "not a gradstack tokenizer file"),
        ({"merges": []}, "not a gradstack tokenizer file"),
        ({**GOOD_BPE, "format": "other"}, "not a gradstack tokenizer file"),
        ({**GOOD_BPE, "version": 2}, "unsupported tokenizer file version 2"),
        ({**GOOD_BPE, "type": "wordpiece"}, "unknown tokenizer type 'wordpiece'"),
        (GOOD_CHAR, "holds a 'char' tokenizer, not a 'bpe' one"),
        (_without(GOOD_BPE, "merges"), "missing key 'merges'"),
        (_without(GOOD_BPE, "pattern"), "missing key 'pattern'"),
        (_without(GOOD_BPE, "vocab_size"), "missing key 'vocab_size'"),
        ({**GOOD_BPE, "pattern": r"\w+"}, "different pre-tokenization pattern"),
        ({**GOOD_BPE, "merges": {"a": 1}}, "'merges' is a dict, expected list"),
        ({**GOOD_BPE, "vocab_size": "257"}, "'vocab_size' is a str, expected int"),
        ({**GOOD_BPE, "merges": [[97, 256]]}, r"merge 0 is \[97, 256\]; .* ids in 0\.\.255"),
        ({**GOOD_BPE, "merges": [[-1, 3]]}, r"merge 0 is \[-1, 3\]"),
        ({**GOOD_BPE, "merges": [[97, 98, 99]]}, "merge 0 is"),
        ({**GOOD_BPE, "merges": [[97, "b"]]}, "merge 0 is"),
        ({**GOOD_BPE, "merges": [[97, 98.0]]}, "merge 0 is"),
        ({**GOOD_BPE, "merges": [[97, 98], [97, 98]]}, r"merge 1 \[97, 98\] is repeated"),
        ({**GOOD_BPE, "vocab_size": 300}, "vocab_size 300 but 1 merges make 257 tokens"),
    ],
)
def test_damaged_bpe_files_raise_value_error_naming_the_file(tmp_path, content, message):
    path = _write(tmp_path, content)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + message):
        BPETokenizer.load(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (GOOD_BPE, "holds a 'bpe' tokenizer, not a 'char' one"),
        (_without(GOOD_CHAR, "tokens"), "missing key 'tokens'"),
        (_without(GOOD_CHAR, "unk"), "missing key 'unk'"),
        ({**GOOD_CHAR, "unk": 3}, "'unk' is a int, expected str or NoneType"),
        ({**GOOD_CHAR, "unk": ""}, "'unk' is an empty string"),
        ({**GOOD_CHAR, "tokens": "abc"}, "'tokens' is a str, expected list"),
        ({**GOOD_CHAR, "tokens": ["a", "b"]}, "token 0 is not the unk '<unk>'"),
        ({**GOOD_CHAR, "tokens": ["<unk>", "ab"]}, "token 1 is 'ab', not one character"),
        ({**GOOD_CHAR, "unk": None, "tokens": ["a", 7]}, "token 1 is 7, not one character"),
        ({**GOOD_CHAR, "tokens": ["<unk>", "a", "a"]}, "repeated tokens"),
    ],
)
def test_damaged_char_files_raise_value_error_naming_the_file(tmp_path, content, message):
    path = _write(tmp_path, content)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + message):
        CharTokenizer.load(path)


def test_load_tokenizer_rejects_foreign_files(tmp_path):
    path = _write(tmp_path, {"some": "config"})
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*not a gradstack tokenizer"):
        load_tokenizer(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_tokenizer(tmp_path / "nope.json")
