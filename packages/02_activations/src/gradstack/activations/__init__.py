"""gradstack.activations: ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax (module 02).

Each function is one registered op with an overflow-free forward; the classes
are parameter-free callables around the functions. Gradient rules live in
gradstack-autograd (``rules/activations.py``).
"""

from gradstack.tensor import load_kernels

from .__about__ import __version__
from .functional import gelu, log_softmax, relu, sigmoid, softmax, tanh
from .modules import GELU, Activation, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .special import GELU_TANH_C, GELU_TANH_K, GELU_TANH_SATURATION, normal_pdf
from .stable import exp_neg_abs, shift_by_max, stable_sigmoid

__all__ = [
    "GELU_TANH_C",
    "GELU_TANH_K",
    "GELU_TANH_SATURATION",
    "normal_pdf",
    "exp_neg_abs",
    "shift_by_max",
    "stable_sigmoid",
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
