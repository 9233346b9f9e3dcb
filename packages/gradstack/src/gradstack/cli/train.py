"""``gradstack train``: set up a new or resumed run, train it, report how it went.

All input is checked before anything is written: a bad flag, data file or checkpoint
is a UsageError and leaves no files behind. The run folder is locked (``lock``) from
before its checkpoint is read until the process ends: one run per folder.
"""

from __future__ import annotations

import argparse
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gradstack.optim import AdamW, CosineAnnealingLR, weight_decay_groups
from gradstack.tensor import default_generator, manual_seed
from gradstack.tokenization import BPETokenizer, CharTokenizer
from gradstack.transformer import GPT, Checkpoint

from . import checkpoint as ckpt_files
from .data import (
    DEFAULT_CORPUS,
    Batches,
    as_token_array,
    check_long_enough,
    default_corpus,
    eval_windows,
    read_text,
    split_text,
    text_digest,
    unigram_loss,
)
from .errors import EXIT_INTERRUPTED, EXIT_OK, UsageError, quiet_numeric_warnings
from .interrupt import StopOnInterrupt
from .loop import TrainingRun
from .metrics import MetricsLog
from .run_folder import claim_new_directory, new_run_directory, open_resumed
from .settings import TrainSettings, new_settings, resumed_settings
from .speed import apply_process_settings
from .train_args import add_train_arguments

BETAS = (0.9, 0.99)
EVAL_WINDOWS = 256
FINAL_SAMPLE_TOKENS = 500

__all__ = ["add_train_arguments", "run_train"]


def _load_text(settings: TrainSettings) -> tuple[str, str]:
    """(text, a description of where it came from)."""
    if settings.data is None:
        return default_corpus(), f"the built-in corpus ({DEFAULT_CORPUS})"
    return read_text(settings.data), settings.data


def _train_tokenizer(settings: TrainSettings, text: str, train_text: str) -> Any:
    """A character tokenizer of the whole text, or BPE learned from the training part."""
    if settings.tokenizer == "char":
        return CharTokenizer().train(text)
    try:
        return BPETokenizer().train(train_text, settings.vocab_size)
    except ValueError as error:
        raise UsageError(f"--vocab-size {settings.vocab_size}: {error}") from None


def _build_optimizer(model: GPT, settings: TrainSettings) -> tuple[AdamW, CosineAnnealingLR]:
    """AdamW (no decay on biases and norms) with warm-up then cosine decay to ``min_lr``."""
    groups = weight_decay_groups(model, settings.weight_decay)
    optimizer = AdamW(groups, lr=settings.lr, betas=BETAS, weight_decay=settings.weight_decay)
    schedule = CosineAnnealingLR(optimizer, settings.steps, settings.min_lr, settings.warmup)
    return optimizer, schedule


def _prompt(tokenizer: Any, val: np.ndarray) -> list[int]:
    """Samples start after a newline (or the held-out text's first token without one)."""
    try:
        return list(tokenizer.encode("\n"))
    except ValueError:
        return [int(val[0])]


@dataclass
class Corpus:
    """The encoded text of a run, its tokenizer and where it came from."""

    source: str
    digest: str
    chars: int
    tokenizer: Any
    train: np.ndarray
    val: np.ndarray


@dataclass
class Start:
    """What ``_start`` found: settings, folder, checkpoint (when resuming), stop step."""

    settings: TrainSettings
    directory: Path
    ckpt: Checkpoint | None
    stop_at: int

    @property
    def step(self) -> int:
        """The step training starts from."""
        return 0 if self.ckpt is None else ckpt_files.step_of(self.ckpt)


def _start(args: argparse.Namespace, lock: ExitStack) -> Start:
    """Settings, directory, checkpoint (when resuming, its folder locked) and stop step."""
    if args.resume is not None and args.out is not None:
        raise UsageError("--out cannot be combined with --resume (a run saves into its own dir)")
    ckpt = None
    if args.resume is not None:
        ckpt = open_resumed(args, lock)
        settings = resumed_settings(args, ckpt.meta["training"])
        directory = ckpt.directory
    else:
        settings = new_settings(args)
        directory = new_run_directory(args)
    stop_at = settings.steps if args.stop_at is None else args.stop_at
    start = Start(settings, directory, ckpt, stop_at)
    if start.step >= settings.steps:
        raise UsageError(
            f"--resume {args.resume}: already trained {start.step} of --steps {settings.steps}; "
            "pass a larger --steps to train on"
        )
    if not start.step < start.stop_at <= settings.steps:
        raise UsageError(
            f"--stop-at {start.stop_at} must be in ({start.step}, --steps {settings.steps}]"
        )
    return start


def _corpus(settings: TrainSettings, ckpt: Checkpoint | None) -> Corpus:
    """Read and encode the text (with the checkpoint's tokenizer when resuming)."""
    text, source = _load_text(settings)
    digest = text_digest(text)
    if ckpt is not None and ckpt.meta["data"].get("sha256") != digest:
        raise ckpt.error(f"the text in {source} changed since the run began")
    train_text, val_text = split_text(text)
    tokenizer = (
        _train_tokenizer(settings, text, train_text)
        if ckpt is None
        else ckpt_files.load_checkpoint_tokenizer(ckpt)
    )
    try:
        train = as_token_array(tokenizer.encode(train_text))
        val = as_token_array(tokenizer.encode(val_text))
    except ValueError as error:
        raise UsageError(f"{source}: the tokenizer cannot encode it ({error})") from None
    check_long_enough(source, train, val, settings.context)
    return Corpus(source, digest, len(text), tokenizer, train, val)


def _tokenizer_bytes(tokenizer: Any) -> bytes:
    """The bytes of ``tokenizer.save`` (written once to a private temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="gradstack-") as temp:
        path = Path(temp) / ckpt_files.TOKENIZER_FILE
        tokenizer.save(path)
        return path.read_bytes()


def _restore(
    ckpt: Checkpoint, model: GPT, optimizer: AdamW, schedule: CosineAnnealingLR
) -> list[dict[str, Any]]:
    """Load weights, optimizer, schedule and generator state; returns the logged metrics."""
    ckpt.load_into(model)
    optimizer_state, schedule_state = ckpt_files.load_optimizer_state(ckpt)
    try:
        optimizer.load_state_dict(optimizer_state)
        schedule.load_state_dict(schedule_state)
        default_generator().bit_generator.state = ckpt.meta["rng"]
    except (KeyError, TypeError, ValueError) as error:
        raise ckpt.error(f"optimizer or generator state does not fit: {error}") from None
    return ckpt_files.read_metrics(ckpt)


def _prepare(args: argparse.Namespace, lock: ExitStack) -> tuple[TrainingRun, int]:
    """Check everything, lock the folder, build the run (new or resumed).

    Returns the run and the step to stop at; the folder stays locked until ``lock`` closes.
    """
    start = _start(args, lock)
    settings, directory, ckpt = start.settings, start.directory, start.ckpt
    corpus = _corpus(settings, ckpt)
    manual_seed(settings.seed)
    model = GPT(
        corpus.tokenizer.vocab_size,
        settings.embed_dim,
        settings.layers,
        settings.heads,
        max_seq_len=settings.context,
        dropout=settings.dropout,
    )
    optimizer, schedule = _build_optimizer(model, settings)
    rows = [] if ckpt is None else _restore(ckpt, model, optimizer, schedule)
    if ckpt is None:
        claim_new_directory(directory, lock)
    tokenizer = (
        _tokenizer_bytes(corpus.tokenizer) if ckpt is None else ckpt_files.tokenizer_bytes(ckpt)
    )
    eval_inputs, eval_targets = eval_windows(corpus.val, settings.context, EVAL_WINDOWS)
    run = TrainingRun(
        model=model,
        optimizer=optimizer,
        schedule=schedule,
        settings=settings,
        batches=Batches(corpus.train, settings.context, settings.batch_size),
        eval_inputs=eval_inputs,
        eval_targets=eval_targets,
        tokenizer=corpus.tokenizer,
        prompt=_prompt(corpus.tokenizer, corpus.val),
        directory=directory,
        metrics=MetricsLog(directory / ckpt_files.METRICS_FILE, rows),
        run_info={
            "tokenizer": settings.tokenizer,
            "data": {"source": settings.data, "sha256": corpus.digest, "chars": corpus.chars},
        },
        tokenizer_bytes=tokenizer,
        step=start.step,
        saved_step=None if ckpt is None else start.step,
        elapsed_before=0.0 if ckpt is None else float(ckpt.meta["elapsed"]),
        baseline=unigram_loss(corpus.train, corpus.val, corpus.tokenizer.vocab_size),
        flow_report=args.flow_report,
    )
    run.metrics.rewrite()
    _announce(run, corpus.source, len(corpus.train), len(corpus.val))
    return run, start.stop_at


def _announce(run: TrainingRun, source: str, train_tokens: int, val_tokens: int) -> None:
    """One paragraph on what is about to happen."""
    s = run.settings
    verb = "resuming at step" if run.step else "training from step"
    print(
        f"gradstack train: {verb} {run.step} of {s.steps} -> {run.directory}\n"
        f"  data: {source}: {train_tokens:,} training + {val_tokens:,} held-out tokens "
        f"({s.tokenizer} tokenizer, vocab {run.model.config.vocab_size})\n"
        f"  model: GPT, {s.layers} layers, width {s.embed_dim}, {s.heads} heads, context "
        f"{s.context}, {run.model.num_parameters():,} parameters\n"
        f"  unigram baseline (held-out loss of token frequencies alone): "
        f"{run.baseline:.4f} nats",
        flush=True,
    )


def run_train(args: argparse.Namespace) -> int:
    """Run ``gradstack train``; returns the exit code. The folder is locked throughout."""
    with ExitStack() as lock:
        with ckpt_files.usage_errors():
            run, stop_at = _prepare(args, lock)
        apply_process_settings(args)
        quiet_numeric_warnings()
        with StopOnInterrupt() as interrupt:
            outcome = run.run(stop_at, interrupt)
        plotted = run.finish_plot()
        return _report(run, outcome, plotted)


def _report(run: TrainingRun, outcome: str, plotted: bool) -> int:
    """Print how the run ended; returns the exit code."""
    where = run.directory
    if outcome == "interrupted":
        print(
            f"gradstack train: interrupted at step {run.step}; checkpoint saved in {where}; "
            f"continue with: gradstack train --resume {where}",
            flush=True,
        )
        return EXIT_INTERRUPTED
    if outcome == "stopped":
        print(
            f"gradstack train: stopped at step {run.step} of {run.settings.steps} (--stop-at); "
            f"continue with: gradstack train --resume {where}",
            flush=True,
        )
        return EXIT_OK
    sample = run.sample(FINAL_SAMPLE_TOKENS)
    print(f"--- sample after {run.step} steps ---\n{sample}\n---")
    print(
        f"gradstack train: done: {run.step} steps in {run.elapsed / 60:.1f} min; "
        f"train loss {run.last_train_loss:.4f}, held-out loss {run.last_val_loss:.4f} nats "
        f"vs unigram baseline {run.baseline:.4f} nats; checkpoint in {where}"
        + ("" if plotted else " (pip install matplotlib for loss.png)"),
        flush=True,
    )
    return EXIT_OK
