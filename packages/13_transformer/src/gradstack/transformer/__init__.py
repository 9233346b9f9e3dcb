"""gradstack.transformer: LayerNorm, MLP, TransformerBlock and GPT (module 13).

The checkpoint writer and reader (``save_checkpoint``, ``open_checkpoint``) are public:
``gradstack train``/``generate`` use them too, so every reader checks the same hashes.
"""

from gradstack.tensor import load_kernels

from .__about__ import __version__
from .attention_maps import attention_maps, draw_attention_maps, token_labels
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
from .config import GPTConfig, forward_work
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
    "forward_work",
    "LayerNorm",
    "TransformerBlock",
    "__version__",
    "attention_maps",
    "clean_leftovers",
    "draw_attention_maps",
    "holds_checkpoint",
    "layer_norm",
    "npz_bytes",
    "open_checkpoint",
    "save_checkpoint",
    "token_labels",
    "write_atomic",
]

load_kernels(__name__)  # kernels/: layer norm on rows and cached decoding on arrays
