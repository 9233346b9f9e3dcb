"""The flags of ``gradstack generate``, ``check`` and ``bench`` (``train``: train_args.py).

Kept apart from the commands so that building the parser imports no model code.
"""

from __future__ import annotations

import argparse

from .argtypes import non_negative_int, positive_float, positive_int
from .speed_args import add_speed_arguments

DEFAULT_PROMPT = "\n"


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``generate`` flags."""
    parser.add_argument(
        "--checkpoint",
        required=True,
        metavar="DIR",
        help="a directory written by `gradstack train`",
    )
    parser.add_argument(
        "--prompt",
        default=DEFAULT_PROMPT,
        metavar="TEXT",
        help="text to continue (default: a newline)",
    )
    parser.add_argument(
        "--max-new-tokens",
        type=non_negative_int,
        default=500,
        metavar="N",
        help="tokens to generate (default: 500)",
    )
    parser.add_argument(
        "--temperature",
        type=positive_float,
        default=0.8,
        metavar="T",
        help="> 0; lower is more conservative (default: 0.8)",
    )
    parser.add_argument(
        "--top-k",
        type=positive_int,
        metavar="K",
        help="sample only from the K most likely tokens (default: all)",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        metavar="N",
        help="make the sample reproducible (default: a fresh random one)",
    )
    parser.add_argument(
        "--attention-map",
        metavar="FILE.png",
        help="first draw each layer's and head's attention over the prompt as a grid of "
        "heat maps into FILE (.png, .svg or .pdf; needs matplotlib)",
    )


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``check`` flags."""
    parser.add_argument(
        "--no-torch",
        action="store_true",
        help="skip the PyTorch comparisons even where torch is installed",
    )


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``bench`` flags."""
    sizes = (
        ("--vocab", 65, "vocabulary size"),
        ("--context", 64, "sequence length"),
        ("--layers", 4, "transformer blocks"),
        ("--heads", 4, "attention heads"),
        ("--embed-dim", 128, "model width"),
        ("--batch-size", 32, "sequences per step"),
        ("--steps", 20, "timed steps"),
    )
    for flag, default, what in sizes:
        parser.add_argument(
            flag,
            type=positive_int,
            default=default,
            metavar="N",
            help=f"{what} (default: {default})",
        )
    add_speed_arguments(parser.add_argument_group("speed (as gradstack train)"))
    parser.add_argument(
        "--warmup",
        type=non_negative_int,
        default=3,
        metavar="N",
        help="untimed steps first (default: 3)",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="seed for init and data (default: 0)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="then profile one more step and print where its time went, op by op "
        "(gradstack.autograd.profile)",
    )
