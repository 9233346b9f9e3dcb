"""The training text: the default corpus, reading --data, the held-out split, batches.

The text is encoded once into an int64 array; a batch is one fancy-indexing gather of
``batch_size`` windows of ``context + 1`` tokens at offsets drawn from the seeded
generator, so the data order is fixed by the generator's state (saved in checkpoints).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import UsageError

DEFAULT_CORPUS = "pydoc_data.topics"
HELD_OUT_FRACTION = 0.1


def default_corpus() -> str:
    """CPython's reference documentation (~450 KB of English), in a fixed order."""
    from pydoc_data.topics import topics

    return "\n".join(topics[key] for key in sorted(topics))


def read_text(path: str) -> str:
    """The UTF-8 text of ``path``; a missing, unreadable, non-text or empty file is a UsageError."""
    file = Path(path)
    if not file.exists():
        raise UsageError(f"--data {path}: no such file")
    if file.is_dir():
        raise UsageError(f"--data {path}: is a directory, not a text file")
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise UsageError(f"--data {path}: cannot read it ({error.strerror or error})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"--data {path}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})"
        ) from None
    if not text:
        raise UsageError(f"--data {path}: the file is empty")
    return text


def text_digest(text: str) -> str:
    """SHA-256 of the text, saved in checkpoints so a resume trains on the same data."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def split_text(text: str) -> tuple[str, str]:
    """(train, held out): the held-out part is the last 10% of the characters."""
    cut = len(text) - math.ceil(len(text) * HELD_OUT_FRACTION)
    return text[:cut], text[cut:]


def as_token_array(ids: list[int]) -> np.ndarray:
    """Token ids as the int64 array batches are gathered from."""
    return np.asarray(ids, dtype=np.int64)


def check_long_enough(source: str, train: np.ndarray, val: np.ndarray, context: int) -> None:
    """Both parts must hold one window of ``context + 1`` tokens; otherwise a UsageError."""
    need = context + 1
    for name, part in (("training part (first 90%)", train), ("held-out part (last 10%)", val)):
        if len(part) < need:
            raise UsageError(
                f"{source}: too short for --context {context}: its {name} has {len(part)} "
                f"tokens, one training window needs {need}; use a longer text or a smaller "
                "--context"
            )


@dataclass
class Batches:
    """Random windows of a token array: ``sample`` -> inputs (B, T) and targets (B, T)."""

    tokens: np.ndarray
    context: int
    batch_size: int

    def __post_init__(self) -> None:
        self._offsets = np.arange(self.context + 1)  # (T + 1,)
        self._num_starts = len(self.tokens) - self.context

    def sample(self, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One batch drawn from ``generator``: inputs and next-token targets, both (B, T)."""
        starts = generator.integers(0, self._num_starts, size=self.batch_size)  # (B,)
        windows = self.tokens[starts[:, None] + self._offsets]  # (B, 1) + (T+1,) -> (B, T+1)
        return windows[:, :-1], windows[:, 1:]


def eval_windows(tokens: np.ndarray, context: int, max_windows: int) -> tuple[np.ndarray, ...]:
    """Fixed non-overlapping windows of the held-out tokens, spread evenly: inputs, targets."""
    starts = np.arange(0, len(tokens) - context, context)  # every full window
    if len(starts) > max_windows:
        starts = starts[np.linspace(0, len(starts) - 1, max_windows).round().astype(np.int64)]
    windows = tokens[starts[:, None] + np.arange(context + 1)]  # (N, 1) + (T+1,) -> (N, T+1)
    return windows[:, :-1], windows[:, 1:]


def unigram_loss(train: np.ndarray, val: np.ndarray, vocab_size: int) -> float:
    """Cross-entropy (nats) of the held-out tokens under the training tokens' frequencies.

    Add-one smoothing keeps tokens unseen in training finite. This is the loss of a
    model that ignores context: a language model has learned something once it is below.
    """
    counts = np.bincount(train, minlength=vocab_size).astype(np.float64) + 1.0
    log_probs = np.log(counts / counts.sum())
    return float(-log_probs[val].mean())
