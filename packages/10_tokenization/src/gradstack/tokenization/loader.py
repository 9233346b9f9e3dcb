"""load_tokenizer: read any gradstack tokenizer file, whatever its type."""

from __future__ import annotations

from .bpe import BPETokenizer
from .char import CharTokenizer
from .jsonio import PathLike, read_tokenizer_json


def load_tokenizer(path: PathLike) -> CharTokenizer | BPETokenizer:
    """Load the tokenizer saved at ``path``, choosing the class from the file's ``"type"``."""
    data = read_tokenizer_json(path)
    if data["type"] == "char":
        return CharTokenizer._from_json(data, path)
    return BPETokenizer._from_json(data, path)
