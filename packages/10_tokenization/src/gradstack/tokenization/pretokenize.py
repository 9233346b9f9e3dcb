"""Pre-tokenization: split text into chunks that BPE never merges across.

The pattern follows GPT-2's, written for the standard library's ``re`` (which has no
``\\p{L}``): English contractions, runs of letters, runs of digits and runs of other
symbols, each with at most one leading space, then runs of whitespace. Every character
falls into one of the classes, so ``"".join(pretokenize(text)) == text`` for every string.

Unlike GPT-2, a run is cut after ``MAX_RUN`` characters. English never comes close, but
a megabyte without spaces (DNA, base64, minified code) would otherwise be one chunk, and
both training and encoding would slow down with its length.
"""

from __future__ import annotations

import re

#: The longest run of letters, digits, symbols or whitespace kept in one chunk.
MAX_RUN = 64

#: The pre-tokenization regex, saved in BPE files so a file is never read with another.
PATTERN = (
    r"'(?:[sdmt]|ll|ve|re)"  # contractions: 's 'd 'm 't 'll 've 're
    rf"| ?[^\W\d_]{{1,{MAX_RUN}}}"  # letters (word characters that are neither digits nor "_")
    rf"| ?\d{{1,{MAX_RUN}}}"  # decimal digits
    rf"| ?(?:[^\s\w]|_){{1,{MAX_RUN}}}"  # other non-space: punctuation, symbols, emoji, ...
    rf"|\s{{1,{MAX_RUN}}}(?!\S)"  # whitespace, leaving the last space to prefix the next word
    rf"|\s{{1,{MAX_RUN}}}"  # whitespace before a word, or at the very end
)

_REGEX = re.compile(PATTERN)


def pretokenize(text: str) -> list[str]:
    """Split ``text`` into GPT-2-style chunks whose concatenation is exactly ``text``."""
    return _REGEX.findall(text)
