"""metrics.jsonl: one JSON line per logged step, and the optional loss.png plot.

Lines are appended (and flushed) to ``DIR/metrics.jsonl`` as they are logged, so progress
can be watched while training (a crash may leave a torn last line); each checkpoint holds
its own copy of the rows up to its step, and a resume rewrites the live file from it.
Every line is strict JSON: a non-finite number is written as ``null``, never ``NaN``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from gradstack.transformer import write_atomic

PLOT_FILE = "loss.png"


def json_line(row: dict[str, Any]) -> str:
    """One strict JSON line: NaN and infinities become null."""
    clean = {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in row.items()
    }
    return json.dumps(clean, allow_nan=False) + "\n"


class MetricsLog:
    """The rows logged so far, mirrored in ``path``."""

    def __init__(self, path: Path, rows: list[dict[str, Any]]) -> None:
        self.path = path
        self.rows = list(rows)

    def append(self, row: dict[str, Any]) -> None:
        """Log one row: keep it, and append it to the file at once."""
        self.rows.append(row)
        with open(self.path, "a", encoding="utf-8") as stream:
            stream.write(json_line(row))
            stream.flush()

    def to_bytes(self) -> bytes:
        """The whole file's contents."""
        return "".join(json_line(row) for row in self.rows).encode()

    def rewrite(self) -> None:
        """Write the file atomically from memory (drops lines of a run that was lost)."""
        write_atomic(self.path, self.to_bytes())


def plot_losses(rows: list[dict[str, Any]], path: Path, baseline: float | None = None) -> bool:
    """Write train and held-out loss against step to ``path``; False without matplotlib.

    ``baseline`` (the unigram loss) is drawn as a dashed line for comparison.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    train = [(row["step"], row["train_loss"]) for row in rows if row.get("train_loss") is not None]
    held_out = [(row["step"], row["val_loss"]) for row in rows if row.get("val_loss") is not None]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    if train:
        axes.plot(*zip(*train), label="train", linewidth=1)
    if held_out:
        axes.plot(*zip(*held_out), "o-", label="held out (last 10%)")
    if baseline is not None:
        axes.axhline(baseline, color="gray", linestyle="--", label="unigram baseline")
    axes.set_xlabel("step")
    axes.set_ylabel("cross-entropy (nats per token)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
    try:
        figure.savefig(temp, dpi=100)
        os.replace(temp, path)
    finally:
        plt.close(figure)
        temp.unlink(missing_ok=True)
    return True
