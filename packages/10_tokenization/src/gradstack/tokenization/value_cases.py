"""Round trips of both tokenizers, the rows ``gradstack check`` prints for gradstack.tokenization.

Each case trains a tokenizer, encodes a text and decodes it again, and returns the share
of characters that did not come back (0.0 when the round trip is exact). This package's
tests run the same list. The cases have the fields of ``gradstack.tensor``'s
``ValueCase``; they are declared here because this package depends on nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .bpe import BPETokenizer
from .char import CharTokenizer

#: Texts that break naive tokenizers: several scripts, combining marks, joined emoji,
#: control characters, lone whitespace kinds.
TEXTS: dict[str, str] = {
    "multilingual": "Grüße, Zoë! 世界你好。Привет, мир. مرحبا بالعالم. नमस्ते दुनिया. ¿Qué tal?",
    "emoji": "ok 👍🏽 family 👩‍👩‍👧‍👦 flag 🏳️‍🌈 keycap 1️⃣ 🎉🎉",
    "control characters": "tab\there\r\nnul\x00bell\x07 esc\x1b[0m del\x7f nbsp\u00a0zwj\u200d.",
    "combining marks": "e\u0301 a\u0308 n\u0303 — precomposed é ä ñ",
}
BPE_VOCAB_SIZE = 300
TRAINING_TEXT = " ".join(TEXTS.values()) * 3


@dataclass(frozen=True)
class RoundTripCase:
    """A check returning the share of characters lost (the shape of a ``ValueCase``)."""

    component: str
    label: str
    run: Callable[[], float]
    tolerance: float = 0.0
    needs_torch: bool = False

    @property
    def id(self) -> str:
        """A unique name for test ids: component and label."""
        return f"{self.component}: {self.label}"


def lost(text: str, back: str) -> float:
    """Share of positions where ``back`` differs from ``text`` (1.0 for a length change)."""
    if len(back) != len(text):
        return 1.0
    return sum(a != b for a, b in zip(text, back)) / max(len(text), 1)


def char_round_trip(text: str) -> Callable[[], float]:
    """A character tokenizer trained on ``text``: decode(encode(text)) == text."""

    def run() -> float:
        tokenizer = CharTokenizer().train(text)
        return lost(text, tokenizer.decode(tokenizer.encode(text)))

    return run


def bpe_round_trip(text: str) -> Callable[[], float]:
    """Byte-level BPE trained on every text: decode(encode(text)) == text."""

    def run() -> float:
        tokenizer = BPETokenizer().train(TRAINING_TEXT, BPE_VOCAB_SIZE)
        return lost(text, tokenizer.decode(tokenizer.encode(text)))

    return run


def bpe_unseen_text() -> float:
    """BPE trained on ASCII only still round-trips any text: it works on bytes."""
    tokenizer = BPETokenizer().train("plain ascii text only " * 20, 270)
    text = "".join(TEXTS.values())
    return lost(text, tokenizer.decode(tokenizer.encode(text)))


VALUE_CASES = [
    *(
        RoundTripCase("char round trip", name, char_round_trip(text))
        for name, text in TEXTS.items()
    ),
    *(RoundTripCase("BPE round trip", name, bpe_round_trip(text)) for name, text in TEXTS.items()),
    RoundTripCase("BPE round trip", "unseen scripts", bpe_unseen_text),
]
