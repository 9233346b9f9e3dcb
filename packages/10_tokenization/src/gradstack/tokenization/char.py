"""CharTokenizer: one token per character, the simplest tokenizer a language model can use."""

from __future__ import annotations

from collections.abc import Iterable

from .ids import check_ids
from .jsonio import PathLike, read_tokenizer_json, require, tokenizer_payload, write_json_atomic


class CharTokenizer:
    """Map each character of the training text to an id, in sorted (code point) order.

    ``unk``: ``None`` (the default) makes characters outside the vocabulary a ValueError
    naming the character and its position. A string such as ``"<unk>"`` adds an unknown
    token with id 0 that such characters encode to, and that decodes back to ``unk``; the
    characters then take ids 1, 2, ... If ``unk`` is itself a character of the training text,
    that one token (id 0) serves both purposes.
    """

    def __init__(self, unk: str | None = None) -> None:
        """Create an empty tokenizer; call ``train`` or use ``load`` to give it a vocabulary."""
        if unk is not None and (not isinstance(unk, str) or unk == ""):
            raise ValueError(f"CharTokenizer: unk must be None or a non-empty string, got {unk!r}")
        self._unk = unk
        self._set_tokens([] if unk is None else [unk])

    def _set_tokens(self, tokens: list[str]) -> None:
        """Install the id -> token list and the lookup tables derived from it."""
        self._tokens = tokens
        self._stoi = {t: i for i, t in enumerate(tokens)}
        self._itos = dict(enumerate(tokens))

    def train(self, text: str) -> CharTokenizer:
        """Build the vocabulary from the distinct characters of ``text``; return ``self``.

        The tokens are the distinct characters in sorted (code point) order, after the
        unk token (id 0) when there is one; installed with ``self._set_tokens``.
        """
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer.train: text must be a str, got {type(text).__name__}")
        # HINT: the unk token may itself occur in the text: it must not get a second id.
        # BEGIN SOLUTION
        chars = sorted(set(text))
        if self._unk is None:
            self._set_tokens(chars)
        else:
            self._set_tokens([self._unk, *(c for c in chars if c != self._unk)])
        # END SOLUTION
        return self

    @property
    def vocab_size(self) -> int:
        """Number of tokens, the unknown token included."""
        return len(self._tokens)

    @property
    def unk(self) -> str | None:
        """The unknown token's string, or ``None`` if unknown characters are an error."""
        return self._unk

    @property
    def unk_id(self) -> int | None:
        """Id of the unknown token (always 0), or ``None`` without one."""
        return None if self._unk is None else 0

    @property
    def tokens(self) -> list[str]:
        """The vocabulary in id order (a copy)."""
        return list(self._tokens)

    def encode(self, text: str) -> list[int]:
        """Return the id of each character of ``text``."""
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer.encode: text must be a str, got {type(text).__name__}")
        stoi = self._stoi
        if self._unk is not None:
            return [stoi.get(c, 0) for c in text]
        try:
            return [stoi[c] for c in text]
        except KeyError:
            pos, char = next((i, c) for i, c in enumerate(text) if c not in stoi)
            hint = (
                "it has not been trained; call train(text) or load(path) first"
                if not self._tokens
                else "train on text that contains it, or build it with CharTokenizer(unk='<unk>')"
            )
            raise ValueError(
                f"CharTokenizer.encode: character {char!r} (U+{ord(char):04X}) at position {pos} "
                f"is not in the vocabulary of {self.vocab_size} tokens; {hint}"
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        """Return the text of ``ids``; an id outside ``0 .. vocab_size-1`` is a ValueError."""
        ids = check_ids("CharTokenizer.decode", ids, self.vocab_size)
        itos = self._itos
        try:
            return "".join([itos[i] for i in ids])
        except (KeyError, TypeError):
            pos, bad = next((p, i) for p, i in enumerate(ids) if not _known(itos, i))
            raise ValueError(
                f"CharTokenizer.decode: id {bad!r} at position {pos} is not in the vocabulary "
                f"(vocab_size {self.vocab_size}, valid ids 0..{self.vocab_size - 1})"
            ) from None

    def save(self, path: PathLike) -> None:
        """Write the tokenizer to ``path`` as JSON, atomically."""
        body = {"unk": self._unk, "tokens": self._tokens}
        write_json_atomic(path, tokenizer_payload("char", body))

    @classmethod
    def load(cls, path: PathLike) -> CharTokenizer:
        """Read a tokenizer written by ``save``; a damaged or foreign file is a ValueError."""
        return cls._from_json(read_tokenizer_json(path, "char"), path)

    @classmethod
    def _from_json(cls, data: dict, path: PathLike) -> CharTokenizer:
        """Build a tokenizer from a checked file header and validate the rest of the file."""
        unk = require(data, "unk", (str, type(None)), path)
        tokens = require(data, "tokens", list, path)
        if unk == "":
            raise ValueError(f"{path}: damaged tokenizer file ('unk' is an empty string)")
        chars = tokens if unk is None else tokens[1:]
        if unk is not None and (not tokens or tokens[0] != unk):
            raise ValueError(f"{path}: damaged tokenizer file (token 0 is not the unk {unk!r})")
        for i, t in enumerate(chars, start=len(tokens) - len(chars)):
            if not isinstance(t, str) or len(t) != 1:
                raise ValueError(
                    f"{path}: damaged tokenizer file (token {i} is {t!r}, not one character)"
                )
        if len(set(tokens)) != len(tokens):
            raise ValueError(f"{path}: damaged tokenizer file (repeated tokens)")
        tokenizer = cls(unk=unk)
        tokenizer._set_tokens(list(tokens))
        return tokenizer

    def __repr__(self) -> str:
        """Show the vocabulary size and the unknown token."""
        return f"CharTokenizer(vocab_size={self.vocab_size}, unk={self._unk!r})"


def _known(itos: dict[int, str], i: object) -> bool:
    """Whether ``i`` is a key of ``itos`` (False for unhashable values)."""
    try:
        return i in itos
    except TypeError:
        return False
