"""``gradstack generate``: continue a prompt with a trained model, streaming to stdout.

The prompt is printed first, then each new token's text as soon as it is stable
(see ``textstream``), flushed as it goes; the model decodes with its KV cache.
"""

from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np

from gradstack.tensor import manual_seed

from .checkpoint import load_checkpoint_tokenizer, load_model, open_run, usage_errors
from .errors import EXIT_OK, UsageError, quiet_numeric_warnings
from .textstream import StreamingDecoder


def run_generate(args: argparse.Namespace) -> int:
    """Run ``gradstack generate``; returns the exit code."""
    with usage_errors():
        ckpt = open_run(args.checkpoint, f"--checkpoint {args.checkpoint}", for_resume=False)
        tokenizer = load_checkpoint_tokenizer(ckpt)
        model = load_model(ckpt)
    vocab_size = model.config.vocab_size
    if args.top_k is not None and args.top_k > vocab_size:
        raise UsageError(f"--top-k {args.top_k} is larger than the vocabulary ({vocab_size})")
    if args.prompt == "":
        raise UsageError("--prompt must not be empty (the model needs a token to continue)")
    try:
        prompt = tokenizer.encode(args.prompt)
    except ValueError as error:
        raise UsageError(f"--prompt: {error}") from None
    if args.attention_map is not None:
        from .attention_map import write_attention_map

        write_attention_map(model, tokenizer, prompt, args.attention_map)
    if args.seed is not None:
        manual_seed(args.seed)
    quiet_numeric_warnings()
    stream = model.generate_stream(
        np.asarray([prompt]), args.max_new_tokens, temperature=args.temperature, top_k=args.top_k
    )
    try:
        first = next(stream, None)  # non-finite logits fail here, before any output
        out = sys.stdout
        out.write(args.prompt)
        out.flush()
        decoder = StreamingDecoder(tokenizer)
        for column in itertools.chain([first] if first is not None else [], stream):  # (B=1,)
            piece = decoder.feed(int(column[0]))
            if piece:
                out.write(piece)
                out.flush()
    except ValueError as error:  # the model's logits are NaN or inf
        raise UsageError(f"--checkpoint {args.checkpoint}: {error}") from None
    out.write(decoder.finish() + "\n")
    out.flush()
    return EXIT_OK
