"""gradstack.activations: ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax (module 02).

Each function is one registered op with an overflow-free forward; the classes
are parameter-free callables around the functions. Gradient rules live in
gradstack-autograd (``rules/activations.py``).
"""

from gradstack.tensor import load_kernels

from .__about__ import __version__
from .functional import gelu, log_softmax, relu, sigmoid, softmax, tanh
from .modules import GELU, Activation, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh

__all__ = [
    "GELU",
    "Activation",
    "LogSoftmax",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "__version__",
    "gelu",
    "log_softmax",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]

load_kernels(__name__)  # gradstack.activations.kernels (fused GELU), when this copy has one
