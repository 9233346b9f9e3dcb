"""Turning a stream of token ids into text that can be printed as it arrives.

A character tokenizer gives one character per token. A byte-level BPE token may end
in the middle of a UTF-8 character, which then decodes to U+FFFD until the rest of its
bytes arrive. So the ids not yet fully printed are decoded together, and only the text
before a trailing U+FFFD is printed; once the decoded text ends cleanly, those ids are
done (UTF-8 resynchronizes at every character, so later tokens cannot change it).
"""

from __future__ import annotations

from typing import Protocol

REPLACEMENT = "\ufffd"


class Decoder(Protocol):
    """Anything with ``decode(ids) -> str`` (both gradstack tokenizers)."""

    def decode(self, ids: list[int]) -> str: ...


class StreamingDecoder:
    """``feed(id)`` returns the newly printable text; ``finish()`` returns the rest."""

    def __init__(self, tokenizer: Decoder) -> None:
        self.tokenizer = tokenizer
        self._pending: list[int] = []
        self._printed = 0  # characters of decode(_pending) already returned

    def feed(self, token: int) -> str:
        """Add one token; return the text that became stable."""
        self._pending.append(int(token))
        text = self.tokenizer.decode(self._pending)
        stable = text.rstrip(REPLACEMENT)
        new = stable[self._printed :]
        if len(stable) == len(text):
            self._pending.clear()
            self._printed = 0
        else:
            self._printed = max(self._printed, len(stable))
        return new

    def finish(self) -> str:
        """Whatever is still held back (an incomplete character prints as U+FFFD)."""
        text = self.tokenizer.decode(self._pending)[self._printed :]
        self._pending.clear()
        self._printed = 0
        return text
