"""gradstack.optim: SGD, Adam, AdamW, cosine schedule with warm-up, clipping (module 06)."""

from gradstack.tensor import load_kernels

from .__about__ import __version__
from .adam import Adam, AdamW
from .clip import clip_grad_norm_
from .groups import weight_decay_groups
from .optimizer import Optimizer
from .schedule import CosineAnnealingLR, cosine_lr
from .serialization import arrays_to_state, state_to_arrays
from .sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "Optimizer",
    "__version__",
    "arrays_to_state",
    "clip_grad_norm_",
    "cosine_lr",
    "state_to_arrays",
    "weight_decay_groups",
]

load_kernels(__name__)  # gradstack.optim.kernels (Adam's flat step), when this copy has one
