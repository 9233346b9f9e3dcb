"""gradstack.transformer: LayerNorm, MLP, TransformerBlock and GPT (module 13).

The checkpoint writer and reader (``save_checkpoint``, ``open_checkpoint``) are public:
``gradstack train``/``generate`` use them too, so every reader checks the same hashes.
"""

from .__about__ import __version__
from .block import TransformerBlock
from .checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointMissing,
    clean_leftovers,
    holds_checkpoint,
    npz_bytes,
    open_checkpoint,
    save_checkpoint,
)
from .config import GPTConfig
from .gpt import GPT
from .layer_norm import layer_norm
from .mlp import MLP
from .normalization import LayerNorm
from .store import write_atomic

__all__ = [
    "GPT",
    "MLP",
    "Checkpoint",
    "CheckpointError",
    "CheckpointMissing",
    "GPTConfig",
    "LayerNorm",
    "TransformerBlock",
    "__version__",
    "clean_leftovers",
    "holds_checkpoint",
    "layer_norm",
    "npz_bytes",
    "open_checkpoint",
    "save_checkpoint",
    "write_atomic",
]
