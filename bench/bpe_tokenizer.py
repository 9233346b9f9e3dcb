"""Benchmark gradstack's byte-level BPE: train on ~1 MB of English, then encode it.

The text ships with every CPython: the help topics in ``pydoc_data.topics`` followed by
the docstrings of a fixed list of standard-library modules, cut to ``--megabytes`` MB of
UTF-8 (the topics are repeated if the docstrings run out). Not a test: run it and read
the numbers.

    python bench/bpe_tokenizer.py [--vocab-size 1000] [--megabytes 1.0]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import time
from pathlib import Path

try:
    from gradstack.tokenization import BPETokenizer
except ImportError:  # not installed: use the source tree next to this script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages/10_tokenization/src"))
    from gradstack.tokenization import BPETokenizer

#: Standard-library modules whose docstrings complete the English text.
MODULES = [
    "builtins", "os", "sys", "re", "collections", "itertools", "functools", "json",
    "pathlib", "argparse", "typing", "subprocess", "threading", "asyncio", "socket",
    "email", "http.client", "urllib.request", "unittest", "logging", "datetime", "decimal",
    "fractions", "statistics", "random", "string", "textwrap", "tarfile", "zipfile",
    "shutil", "tempfile", "inspect", "ast", "dis", "pickle", "sqlite3", "csv", "io",
    "codecs", "contextlib", "dataclasses", "enum", "heapq", "bisect", "math", "operator",
    "configparser", "difflib", "doctest", "pdb", "smtplib", "ftplib", "imaplib", "mailbox",
    "multiprocessing", "concurrent.futures", "selectors", "ssl", "struct", "array", "queue",
    "copy", "pprint", "numbers", "hashlib", "base64", "locale", "gettext", "calendar",
    "time", "glob", "fnmatch", "platform", "traceback", "warnings", "weakref", "types",
    "abc", "pkgutil", "ipaddress", "uuid", "html.parser", "xml.etree.ElementTree", "gzip",
    "lzma", "shelve", "signal", "getopt", "mimetypes", "optparse", "plistlib", "tokenize",
    "sched", "secrets",
]  # fmt: skip


def english_text(num_bytes: int) -> str:
    """About ``num_bytes`` bytes of English prose that every Python installation ships."""
    from pydoc_data.topics import topics

    parts = [topics[key] for key in sorted(topics)]
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for _, member in sorted(vars(module).items()):
            doc = inspect.getdoc(member) if callable(member) else None
            if doc:
                parts.append(doc)
    data = "\n\n".join(parts).encode("utf-8")
    repeats = -(-num_bytes // len(data))
    return (data * repeats)[:num_bytes].decode("utf-8", errors="ignore")


def main() -> None:
    """Train, encode cold and warm, decode, and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab-size", type=int, default=1000)
    parser.add_argument("--megabytes", type=float, default=1.0)
    args = parser.parse_args()

    text = english_text(int(args.megabytes * 1_000_000))
    megabytes = len(text.encode("utf-8")) / 1e6
    print(f"python {sys.version.split()[0]}, text: {megabytes:.3f} MB, {len(text):,} characters")

    start = time.perf_counter()
    tokenizer = BPETokenizer().train(text, vocab_size=args.vocab_size)
    train_s = time.perf_counter() - start
    print(f"train to vocab_size={tokenizer.vocab_size}: {train_s:.2f} s")

    start = time.perf_counter()
    ids = tokenizer.encode(text)
    cold_s = time.perf_counter() - start
    start = time.perf_counter()
    again = tokenizer.encode(text)
    warm_s = time.perf_counter() - start
    start = time.perf_counter()
    decoded = tokenizer.decode(ids)
    decode_s = time.perf_counter() - start
    assert again == ids and decoded == text, "round trip failed"

    print(f"encode, cold cache: {cold_s:.3f} s = {megabytes / cold_s:.2f} MB/s")
    print(f"encode, warm cache: {warm_s:.3f} s = {megabytes / warm_s:.2f} MB/s")
    print(f"decode: {decode_s:.3f} s = {megabytes / decode_s:.1f} MB/s")
    print(f"tokens: {len(ids):,} ({megabytes * 1e6 / len(ids):.2f} bytes per token)")


if __name__ == "__main__":
    main()
