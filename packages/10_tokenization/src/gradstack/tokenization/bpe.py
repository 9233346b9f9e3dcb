"""BPETokenizer: byte-level byte-pair encoding, as in GPT-2.

Text is encoded to UTF-8, so the 256 byte values are the first 256 tokens and every
string has an encoding. Training pre-tokenizes the text (``pretokenize``), then learns
merges of adjacent tokens inside chunks, never across them; merge ``k`` creates token
``256 + k``. See ``bpe_train`` for the tie-break rule.

Lone surrogates (``"\\ud800"``, which Python strings may hold but UTF-8 cannot) are encoded
with ``errors="surrogatepass"`` as the three bytes CPython uses for them, and decoded back,
so ``decode(encode(s)) == s`` for every Python string. Decoding arbitrary ids (sampled from
a model, or a slice that splits a character) can produce bytes that are not UTF-8: each
such sequence becomes U+FFFD, as in GPT-2; ``decode_bytes`` returns the raw bytes.
"""

from __future__ import annotations

import codecs
from collections import Counter
from collections.abc import Iterable

from .bpe_apply import apply_merges
from .bpe_train import learn_merges
from .ids import check_ids
from .jsonio import PathLike, read_tokenizer_json, require, tokenizer_payload, write_json_atomic
from .pretokenize import PATTERN, pretokenize

NUM_BYTES = 256
#: The per-chunk encoding cache is cleared when it reaches this many entries.
CACHE_LIMIT = 100_000

_ERRORS = "gradstack.tokenization.bpe"
_surrogatepass = codecs.lookup_error("surrogatepass")


def _surrogatepass_or_replace(error: UnicodeError) -> tuple[str, int]:
    """Decode an encoded surrogate back to itself; replace any other invalid bytes by U+FFFD."""
    try:
        return _surrogatepass(error)
    except UnicodeError:
        return "\ufffd", error.end


codecs.register_error(_ERRORS, _surrogatepass_or_replace)


class BPETokenizer:
    """Byte-level BPE: ``train(text, vocab_size)``, ``encode``, ``decode``, ``save``/``load``.

    An untrained tokenizer has the 256 byte tokens and no merges: it already encodes
    any string, one token per UTF-8 byte.
    """

    def __init__(self) -> None:
        """Create a tokenizer with the 256 byte tokens and no merges."""
        self._set_merges([])

    def _set_merges(self, merges: list[tuple[int, int]]) -> None:
        """Install ``merges`` and rebuild the vocabulary, the merge table and the cache."""
        vocab = [bytes([b]) for b in range(NUM_BYTES)]
        for a, b in merges:
            vocab.append(vocab[a] + vocab[b])
        self._merges = merges
        self._merge_ids = {pair: NUM_BYTES + k for k, pair in enumerate(merges)}
        self._vocab = dict(enumerate(vocab))
        self._cache: dict[str, list[int]] = {}

    def train(self, text: str, vocab_size: int) -> BPETokenizer:
        """Learn ``vocab_size - 256`` merges from ``text``; return ``self``.

        Raises ValueError if ``vocab_size < 256`` or if the text cannot support that many
        merges (the message says how many were possible); the tokenizer is then unchanged.
        """
        if not isinstance(text, str):
            raise TypeError(f"BPETokenizer.train: text must be a str, got {type(text).__name__}")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
            raise TypeError(
                f"BPETokenizer.train: vocab_size must be an int, got {type(vocab_size).__name__}"
            )
        if vocab_size < NUM_BYTES:
            raise ValueError(
                f"BPETokenizer.train: vocab_size {vocab_size} is below {NUM_BYTES}, "
                "the number of byte tokens every byte-level BPE vocabulary starts with"
            )
        wanted = vocab_size - NUM_BYTES
        chunk_counts = Counter(pretokenize(text))
        chunks = ((_to_bytes(chunk), freq) for chunk, freq in chunk_counts.items())
        merges = learn_merges(chunks, wanted, first_id=NUM_BYTES)
        if len(merges) < wanted:
            raise ValueError(
                f"BPETokenizer.train: vocab_size {vocab_size} needs {wanted} merges, but the "
                f"text supports only {len(merges)} (every chunk is then a single token); "
                f"use vocab_size <= {NUM_BYTES + len(merges)} or more text"
            )
        self._set_merges(merges)
        return self

    @property
    def vocab_size(self) -> int:
        """Number of tokens: 256 bytes plus one per merge."""
        return NUM_BYTES + len(self._merges)

    @property
    def merges(self) -> list[tuple[int, int]]:
        """The learned merges in order; merge ``k`` creates token ``256 + k`` (a copy)."""
        return list(self._merges)

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes that token ``token_id`` stands for."""
        return self.decode_bytes([token_id])

    def encode(self, text: str) -> list[int]:
        """Return the token ids of ``text``, applying merges chunk by chunk (cached per chunk)."""
        if not isinstance(text, str):
            raise TypeError(f"BPETokenizer.encode: text must be a str, got {type(text).__name__}")
        cache = self._cache
        merge_ids = self._merge_ids
        out: list[int] = []
        for chunk in pretokenize(text):
            ids = cache.get(chunk)
            if ids is None:
                ids = apply_merges(_to_bytes(chunk), merge_ids)
                if len(cache) >= CACHE_LIMIT:
                    cache.clear()
                cache[chunk] = ids
            out.extend(ids)
        return out

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """Return the bytes of ``ids``; an id outside ``0 .. vocab_size-1`` is a ValueError."""
        ids = check_ids("BPETokenizer.decode", ids, self.vocab_size)
        vocab = self._vocab
        try:
            return b"".join([vocab[i] for i in ids])
        except (KeyError, TypeError):
            pos, bad = next((p, i) for p, i in enumerate(ids) if not _known(vocab, i))
            raise ValueError(
                f"BPETokenizer.decode: id {bad!r} at position {pos} is not in the vocabulary "
                f"(vocab_size {self.vocab_size}, valid ids 0..{self.vocab_size - 1})"
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        """Return the text of ``ids``; bytes that are not UTF-8 become U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors=_ERRORS)

    def save(self, path: PathLike) -> None:
        """Write the tokenizer to ``path`` as JSON, atomically."""
        body = {
            "vocab_size": self.vocab_size,
            "pattern": PATTERN,
            "merges": [list(pair) for pair in self._merges],
        }
        write_json_atomic(path, tokenizer_payload("bpe", body))

    @classmethod
    def load(cls, path: PathLike) -> BPETokenizer:
        """Read a tokenizer written by ``save``; a damaged or foreign file is a ValueError."""
        return cls._from_json(read_tokenizer_json(path, "bpe"), path)

    @classmethod
    def _from_json(cls, data: dict, path: PathLike) -> BPETokenizer:
        """Build a tokenizer from a checked file header and validate the rest of the file."""
        pattern = require(data, "pattern", str, path)
        raw = require(data, "merges", list, path)
        vocab_size = require(data, "vocab_size", int, path)
        if pattern != PATTERN:
            raise ValueError(
                f"{path}: tokenizer file uses a different pre-tokenization pattern "
                f"({pattern!r}); this gradstack splits text with {PATTERN!r}"
            )
        merges: list[tuple[int, int]] = []
        seen: set[tuple[int, int]] = set()
        for k, item in enumerate(raw):
            new_id = NUM_BYTES + k
            if not (
                isinstance(item, list)
                and len(item) == 2
                and all(type(x) is int and 0 <= x < new_id for x in item)
            ):
                raise ValueError(
                    f"{path}: damaged tokenizer file (merge {k} is {item!r}; it must be a pair "
                    f"of existing ids in 0..{new_id - 1})"
                )
            pair = (item[0], item[1])
            if pair in seen:
                raise ValueError(f"{path}: damaged tokenizer file (merge {k} {item} is repeated)")
            seen.add(pair)
            merges.append(pair)
        if vocab_size != NUM_BYTES + len(merges):
            raise ValueError(
                f"{path}: damaged tokenizer file (vocab_size {vocab_size} but "
                f"{len(merges)} merges make {NUM_BYTES + len(merges)} tokens)"
            )
        tokenizer = cls()
        tokenizer._set_merges(merges)
        return tokenizer

    def __repr__(self) -> str:
        """Show the vocabulary size."""
        return f"BPETokenizer(vocab_size={self.vocab_size})"


def _to_bytes(text: str) -> bytes:
    """UTF-8 bytes of ``text``, lone surrogates included (see the module docstring)."""
    return text.encode("utf-8", errors="surrogatepass")


def _known(vocab: dict[int, bytes], i: object) -> bool:
    """Whether ``i`` is a key of ``vocab`` (False for unhashable values)."""
    try:
        return i in vocab
    except TypeError:
        return False
