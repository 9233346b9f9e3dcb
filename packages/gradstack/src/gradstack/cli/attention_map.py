"""``gradstack generate --attention-map FILE.png``: what each head attends to in the prompt.

The prompt (cropped to the model's context, as generation sees it) goes through one
recorded forward pass (``gradstack.transformer.attention_maps``), and the heat-map grid,
one row per layer and one column per head, is written to FILE before the text is
generated. Needs matplotlib (``pip install "gradstack[plot]"``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from gradstack.transformer import GPT, attention_maps, draw_attention_maps, token_labels

from .errors import UsageError


def write_attention_map(model: GPT, tokenizer: Any, prompt: list[int], path: str) -> None:
    """Draw the prompt's attention maps to ``path``; one line about it on stderr."""
    target = Path(path)
    if target.suffix.lower() not in {".png", ".svg", ".pdf"}:
        raise UsageError(f"--attention-map {path}: name a .png, .svg or .pdf file")
    if not target.parent.is_dir():
        raise UsageError(f"--attention-map {path}: no directory {target.parent}")
    try:
        import matplotlib  # noqa: F401 (only to say what is missing, before any work)
    except ImportError:
        raise UsageError(
            '--attention-map needs matplotlib: pip install "gradstack[plot]"'
        ) from None
    ids = prompt[-model.config.max_seq_len :]
    maps = attention_maps(model, ids)  # (layers, heads, T, T)
    labels = token_labels([tokenizer.decode([i]) for i in ids])
    try:
        draw_attention_maps(
            maps, target, labels, title=f"attention over the prompt ({len(ids)} tokens)"
        )
    except OSError as error:
        raise UsageError(f"--attention-map {path}: cannot write it ({error.strerror})") from None
    layers, heads = maps.shape[:2]
    print(
        f"gradstack generate: attention maps ({layers} layers x {heads} heads over "
        f"{len(ids)} prompt tokens) written to {target}",
        file=sys.stderr,
    )
