"""What the heads look at: each layer's and head's attention probabilities over a prompt.

``attention_maps(model, tokens)`` runs one forward pass of a GPT in eval mode with a
recorder in front of the attention op (``gradstack.tensor.set_op_hook``): each call of
``scaled_dot_product_attention`` is run through its reference forward, the textbook
``P = softmax(scale · q kᵀ + bias)`` that keeps P explicitly, and P is kept. Blocks run in
order, so the k-th call is layer k. ``draw_attention_maps`` draws them as a grid of heat
maps, one row per layer and one column per head, with the prompt's tokens on the axes
(matplotlib: ``pip install "gradstack-transformer[plot]"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gradstack.tensor import Op, Tensor, no_grad, set_op_hook

from .gpt import GPT

ATTENTION_OP = "scaled_dot_product_attention"
MAX_LABELLED_TOKENS = 40  # beyond this, tick labels would overlap: ticks show positions


def _prompt(model: GPT, tokens: Any) -> np.ndarray:
    """The prompt as a (1, T) int array, checked against the model's context."""
    ids = np.asarray(tokens)
    if ids.ndim == 2 and ids.shape[0] == 1:
        ids = ids[0]
    if ids.ndim != 1 or ids.size == 0 or ids.dtype.kind not in "iu":
        raise ValueError(
            f"attention_maps: tokens must be a non-empty 1-D sequence of integer ids (or one "
            f"row of shape (1, T)), got shape {ids.shape} and dtype {ids.dtype}"
        )
    if ids.size > model.config.max_seq_len:
        raise ValueError(
            f"attention_maps: {ids.size} tokens exceed max_seq_len={model.config.max_seq_len}"
        )
    return ids[None, :]


def attention_maps(model: GPT, tokens: Any) -> np.ndarray:
    """Attention probabilities (layers, heads, T, T) of ``model`` over one prompt of T tokens.

    Entry ``[l, h, i, j]`` is how much query position ``i`` of head ``h`` in block ``l``
    attends to key position ``j``; each row sums to 1 and is 0 right of the diagonal.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"attention_maps: expects a GPT, got {type(model).__name__}")
    idx = _prompt(model, tokens)
    recorded: list[np.ndarray] = []

    def record(op: Op, inputs: tuple[Tensor, ...], attrs: dict[str, Any]) -> Tensor | None:
        if op.name != ATTENTION_OP:
            return None
        out, saved = op.forward(*[t.data for t in inputs], **attrs)  # the reference: keeps P
        recorded.append(np.array(saved[0][0], dtype=np.float32))  # (H, T, T) of batch row 0
        return Tensor(out, dtype=out.dtype)

    previous = set_op_hook(record)
    if previous is not None:
        set_op_hook(previous)
        raise RuntimeError("attention_maps: another op hook is installed (is a profile open?)")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(idx)
    finally:
        set_op_hook(None)
        model.train(was_training)
    if len(recorded) != model.config.num_layers:
        raise RuntimeError(
            f"attention_maps: recorded {len(recorded)} attention calls for "
            f"{model.config.num_layers} layers"
        )
    return np.stack(recorded)


def token_labels(pieces: Sequence[str]) -> list[str]:
    """Printable tick labels for token texts: whitespace made visible, long ones shortened."""
    visible = {" ": "␣", "\n": "⏎", "\t": "⇥"}
    labels = []
    for piece in pieces:
        text = "".join(visible.get(ch, ch) for ch in piece) or "∅"
        labels.append(text if len(text) <= 8 else text[:7] + "…")
    return labels


def draw_attention_maps(
    maps: np.ndarray, path: str | Path, labels: Sequence[str] | None = None, title: str = ""
) -> Any:
    """Write ``maps`` (layers, heads, T, T) as a grid of heat maps to ``path``; returns the figure.

    One panel per layer (rows) and head (columns); queries down, keys across, the prompt's
    ``labels`` on both axes when there are at most 40 tokens. Needs matplotlib.
    """
    try:
        from matplotlib.figure import Figure  # optional extra: gradstack-transformer[plot]
    except ImportError:
        raise ImportError(
            'draw_attention_maps needs matplotlib: pip install "gradstack-transformer[plot]"'
        ) from None
    maps = np.asarray(maps)
    if maps.ndim != 4 or maps.shape[-1] != maps.shape[-2]:
        raise ValueError(
            f"draw_attention_maps: maps must be (layers, heads, T, T), got shape {maps.shape}"
        )
    layers, heads, length, _ = maps.shape
    if labels is not None and len(labels) != length:
        raise ValueError(f"draw_attention_maps: {len(labels)} labels for {length} tokens")
    size = min(3.2, max(2.3, 0.12 * length))
    figure = Figure(figsize=(size * heads + 1.2, (size + 0.4) * layers + 0.6), layout="constrained")
    axes = figure.subplots(layers, heads, squeeze=False)
    ticks = np.arange(length)
    tick_labels = None if labels is None or length > MAX_LABELLED_TOKENS else list(labels)
    rotation = 0 if tick_labels is not None and max(map(len, tick_labels)) == 1 else 90
    image = None
    for layer in range(layers):
        for head in range(heads):
            ax = axes[layer, head]
            image = ax.imshow(maps[layer, head], cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_title(f"layer {layer} · head {head}", fontsize=9)
            if tick_labels is not None:  # every panel has them; keep space for them
                ax.set_xticks(ticks, tick_labels, rotation=rotation, fontsize=7)
                ax.set_yticks(ticks, tick_labels, fontsize=7)
            if head == 0:
                ax.set_ylabel("query", fontsize=8)
            if layer == layers - 1:
                ax.set_xlabel("key", fontsize=8)
    figure.colorbar(image, ax=axes, shrink=0.6, label="attention probability")
    if title:
        figure.suptitle(title, fontsize=10)
    figure.savefig(Path(path), dpi=100)
    return figure
