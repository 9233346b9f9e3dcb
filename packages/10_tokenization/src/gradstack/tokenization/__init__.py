"""gradstack.tokenization: turning text into token ids and back.

``CharTokenizer`` maps characters to ids; ``BPETokenizer`` is byte-level byte-pair
encoding as in GPT-2. Both save to and load from JSON files; ``load_tokenizer`` reads
either kind.
"""

from .__about__ import __version__
from .bpe import BPETokenizer
from .char import CharTokenizer
from .loader import load_tokenizer
from .pretokenize import pretokenize

__all__ = ["BPETokenizer", "CharTokenizer", "__version__", "load_tokenizer", "pretokenize"]
