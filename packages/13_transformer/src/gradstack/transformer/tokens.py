"""Checking token batches given to GPT: integer ids of shape (B, T) that fit the model."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstack.tensor import Tensor

from .config import GPTConfig


def check_tokens(owner: str, tokens: Any, config: GPTConfig, crop: bool = False) -> np.ndarray:
    """Return the ids as an int64 array (B, T), or fail naming the problem.

    Non-integer tokens are a TypeError; a shape other than (B, T) with B, T >= 1 or,
    unless ``crop``, T > max_seq_len is a ValueError; an id outside [0, vocab_size) is
    an IndexError (as in Embedding).
    """
    array = tokens.data if isinstance(tokens, Tensor) else np.asarray(tokens)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{owner}: tokens must be integer ids, got dtype {array.dtype}")
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(
            f"{owner}: tokens must have shape (B, T) with B, T >= 1, got shape {array.shape}"
        )
    if not crop and array.shape[1] > config.max_seq_len:
        raise ValueError(
            f"{owner}: sequence length T={array.shape[1]} exceeds max_seq_len={config.max_seq_len}"
        )
    low, high = int(array.min()), int(array.max())
    if low < 0 or high >= config.vocab_size:
        bad = low if low < 0 else high
        raise IndexError(
            f"{owner}: token id {bad} is out of range for vocab_size={config.vocab_size}"
        )
    return array.astype(np.int64, copy=False)
