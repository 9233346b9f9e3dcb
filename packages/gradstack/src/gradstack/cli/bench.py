"""``gradstack bench``: time one GPT training step (forward, backward, AdamW update).

The default size is the project's config B (vocab 65, context 64, 4 layers, 4 heads,
width 128, batch 32): the model ``gradstack train`` trains by default. A few warm-up
steps are not timed; the median of the timed steps is reported. ``--profile`` then runs
one more step under ``gradstack.autograd.profile`` and prints the op table (with several
shards, their threads run at once and the op times add up to more than the wall time).
"""

from __future__ import annotations

import argparse
import statistics
import time

from gradstack.autograd import profile
from gradstack.optim import AdamW
from gradstack.tensor import default_generator, manual_seed
from gradstack.transformer import GPT

from .errors import EXIT_OK, UsageError
from .speed import apply_process_settings
from .speed_args import default_shards
from .training_step import training_step


def run_bench(args: argparse.Namespace) -> int:
    """Run ``gradstack bench``; returns the exit code."""
    if args.embed_dim % args.heads:
        raise UsageError(f"--heads {args.heads} does not divide --embed-dim {args.embed_dim}")
    shards = args.shards or default_shards(
        args.batch_size, args.context, args.embed_dim, args.layers
    )
    if shards > args.batch_size:
        raise UsageError(f"--shards {shards} is more than --batch-size {args.batch_size}")
    apply_process_settings(args)
    manual_seed(args.seed)
    model = GPT(args.vocab, args.embed_dim, args.layers, args.heads, max_seq_len=args.context)
    optimizer = AdamW(model.parameters(), lr=1e-3)
    shape = (args.batch_size, args.context + 1)
    tokens = default_generator().integers(0, args.vocab, size=shape)  # (B, T+1)
    inputs, targets = tokens[:, :-1], tokens[:, 1:]  # (B, T) each
    params = list(model.parameters())

    def step() -> float:
        """One full training step; returns its wall-clock seconds."""
        started = time.perf_counter()
        training_step(model, optimizer, params, inputs, targets, shards, grad_clip=1.0)
        return time.perf_counter() - started

    for _ in range(args.warmup):
        step()
    times = [step() for _ in range(args.steps)]
    median = statistics.median(times)
    tokens_per_step = args.batch_size * args.context
    print(
        f"gradstack bench: GPT vocab {args.vocab}, context {args.context}, {args.layers} layers, "
        f"{args.heads} heads, width {args.embed_dim}, batch {args.batch_size} in {shards} shard(s) "
        f"({model.num_parameters():,} parameters)\n"
        f"median {median * 1000:.1f} ms/step over {args.steps} steps "
        f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}), "
        f"{tokens_per_step / median:,.0f} tokens/s"
    )
    if args.profile:
        with profile() as prof:
            training_step(model, optimizer, params, inputs, targets, shards, grad_clip=1.0)
        threads = f" ({shards} threads at once: shares add up to more than 100%)"
        print(f"\none more step, profiled by op{threads if shards > 1 else ''}:")
        print(prof.table())
    return EXIT_OK
