"""The flags of ``gradstack train``.

Settings flags default to None (see ``settings``): the defaults shown in --help are
applied afterwards, so that ``--resume`` can tell which flags were given.
"""

from __future__ import annotations

import argparse

from .argtypes import (
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    probability,
)
from .settings import DEFAULT_BPE_VOCAB, DEFAULT_WARMUP, DEFAULTS, RESUMABLE
from .speed_args import add_speed_arguments

DESCRIPTION = """\
Train a GPT language model on text, from scratch, on the CPU.

With no arguments: a character-level GPT (4 layers, width 128, 4 heads, context 64)
on CPython's own reference documentation (pydoc_data.topics, ~450 KB of English that
every Python install has), for a few minutes on a laptop CPU.

The last 10% of the text is held out: every --eval-every steps the held-out loss is
computed, a text sample is printed and a checkpoint is saved. The final line compares
the held-out loss with the unigram baseline (the loss of token frequencies alone).
"""

EPILOG = f"""\
checkpoint directory (--out, default runs/<YYYYmmdd-HHMMSS>):
  CURRENT         names the current checkpoint: gen-NNNNNN (the last two are kept)
  gen-NNNNNN/     one checkpoint, published all or nothing:
    config.json     model config, training settings, step, RNG state, file hashes
    model.npz       weights (numpy .npz, no pickle)
    optimizer.npz   AdamW state and learning-rate schedule
    tokenizer.json  the tokenizer
    metrics.jsonl   the metrics logged up to this checkpoint
  metrics.jsonl   one JSON line per logged step as training goes (step, train_loss,
                  val_loss, lr, tokens_per_s, elapsed)
  loss.png        train and held-out loss curves, only if matplotlib is installed
                  (pip install "gradstack[plot]"); skipped silently otherwise
  lock            held while a run trains here: a second run on the folder fails

--resume DIR continues a run exactly where it stopped (same batches, same result as
an uninterrupted run). Only {", ".join("--" + n.replace("_", "-") for n in sorted(RESUMABLE))}
may change when resuming (a larger --steps trains on).

Ctrl-C finishes the current step, saves a checkpoint and exits with code 130 (a second
Ctrl-C stops at once; the last checkpoint is kept). Whenever the process dies, the
folder holds a complete checkpoint: the new one or the previous one.

exit codes: 0 done (or stopped by --stop-at); 2 bad input, a folder another run holds,
out of memory, or a disk error (one line on stderr; the last checkpoint is kept); 3
training diverged (a NaN or inf loss or gradient: the last good checkpoint is kept,
nothing after it is saved; lower --lr or use --grad-clip); 130 interrupted by Ctrl-C.
"""


def _default(name: str) -> str:
    """`` (default: X)`` for a help string."""
    return f" (default: {DEFAULTS[name]})"


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Register every ``train`` flag on ``parser``."""
    data = parser.add_argument_group("data and tokenizer")
    data.add_argument(
        "--data",
        metavar="FILE",
        help="UTF-8 text file to train on (default: the built-in pydoc_data.topics corpus)",
    )
    data.add_argument(
        "--tokenizer",
        choices=("char", "bpe"),
        help="one token per character, or byte-level BPE" + _default("tokenizer"),
    )
    data.add_argument(
        "--vocab-size",
        type=positive_int,
        metavar="N",
        help=f"BPE vocabulary size, >= 256 (default: {DEFAULT_BPE_VOCAB})",
    )

    model = parser.add_argument_group("model")
    model.add_argument(
        "--layers", type=positive_int, metavar="N", help="transformer blocks" + _default("layers")
    )
    model.add_argument(
        "--embed-dim",
        type=positive_int,
        metavar="N",
        help="width of the residual stream" + _default("embed_dim"),
    )
    model.add_argument(
        "--heads",
        type=positive_int,
        metavar="N",
        help="attention heads; must divide --embed-dim" + _default("heads"),
    )
    model.add_argument(
        "--context",
        type=positive_int,
        metavar="N",
        help="tokens of context (the model's max_seq_len)" + _default("context"),
    )
    model.add_argument(
        "--dropout",
        type=probability,
        metavar="P",
        help="dropout rate in [0, 1)" + _default("dropout"),
    )

    opt = parser.add_argument_group("optimization")
    opt.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="N",
        help="sequences per step" + _default("batch_size"),
    )
    opt.add_argument(
        "--steps",
        type=positive_int,
        metavar="N",
        help="optimizer steps in the whole run" + _default("steps"),
    )
    opt.add_argument(
        "--lr",
        type=positive_float,
        metavar="LR",
        help="peak learning rate (AdamW)" + _default("lr"),
    )
    opt.add_argument(
        "--min-lr",
        type=non_negative_float,
        metavar="LR",
        help="learning rate at the end of the cosine decay (default: --lr / 10)",
    )
    opt.add_argument(
        "--warmup",
        type=non_negative_int,
        metavar="N",
        help=f"steps of linear learning-rate warm-up (default: {DEFAULT_WARMUP}, "
        "or --steps / 10 if that is less)",
    )
    opt.add_argument(
        "--weight-decay",
        type=non_negative_float,
        metavar="WD",
        help="AdamW weight decay (not on biases and norms)" + _default("weight_decay"),
    )
    opt.add_argument(
        "--grad-clip",
        type=non_negative_float,
        metavar="NORM",
        help="clip the gradient norm to this, 0 = off" + _default("grad_clip"),
    )
    opt.add_argument(
        "--seed",
        type=non_negative_int,
        metavar="N",
        help="seeds init, dropout and batch order" + _default("seed"),
    )

    add_speed_arguments(parser.add_argument_group("speed"))

    run = parser.add_argument_group("logging and checkpoints")
    run.add_argument(
        "--eval-every",
        type=positive_int,
        metavar="N",
        help="held-out loss, sample and checkpoint every N steps" + _default("eval_every"),
    )
    run.add_argument(
        "--log-every",
        type=positive_int,
        metavar="N",
        help="a metrics.jsonl line every N steps" + _default("log_every"),
    )
    run.add_argument(
        "--sample-tokens",
        type=non_negative_int,
        metavar="N",
        help="tokens in each evaluation's sample" + _default("sample_tokens"),
    )
    run.add_argument(
        "--out",
        metavar="DIR",
        help="checkpoint directory of a new run (default: runs/<YYYYmmdd-HHMMSS>)",
    )
    run.add_argument(
        "--flow-report",
        action="store_true",
        help="at each evaluation, print every parameter's gradient (norm, zeros, flags for "
        "missing, zero, non-finite, exploding or vanishing ones) and log it to metrics.jsonl",
    )
    run.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR")
    run.add_argument(
        "--stop-at",
        type=positive_int,
        metavar="STEP",
        help="save and stop after this step (the schedule still spans --steps); "
        "continue later with --resume",
    )
