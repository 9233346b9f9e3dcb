"""The flags of the speed settings and the default shard count (imports stay light, so
``gradstack --help`` and ``gradstack check`` work whichever modules are installed).
The settings themselves are explained in speed.py."""

from __future__ import annotations

import argparse

from .argtypes import positive_int


def add_speed_arguments(group: argparse._ArgumentGroup) -> None:
    """Register ``--shards`` and ``--no-malloc-tuning``."""
    group.add_argument(
        "--shards",
        type=positive_int,
        metavar="N",
        help="split each batch into N shards that run in parallel threads (default: one per "
        "core when the batch is large enough, else 1; with --dropout each shard draws its "
        "masks from its own generator, so runs repeat exactly)",
    )
    group.add_argument(
        "--no-malloc-tuning",
        dest="malloc_tuning",
        action="store_false",
        help="leave glibc's malloc alone (default: keep freed large blocks in the process, "
        "which saves page faults every step)",
    )


def default_shards(batch_size: int, context: int, embed_dim: int, layers: int) -> int:
    """The shard count a run gets when ``--shards`` is not given."""
    from gradstack.autograd import suggest_shards
    from gradstack.transformer import forward_work

    return suggest_shards(batch_size, forward_work(context, embed_dim, layers))
