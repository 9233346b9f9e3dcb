"""gradstack.layers: Module, Parameter, Linear, Dropout, Sequential, ModuleList (module 03)."""

from gradstack.tensor import load_kernels

from .__about__ import __version__
from .containers import Identity, ModuleList, Sequential
from .dropout import Dropout, dropout
from .linear import Linear, linear
from .module import Module
from .parameter import Parameter
from .state_dict import IncompatibleKeys

__all__ = [
    "Dropout",
    "Identity",
    "IncompatibleKeys",
    "Linear",
    "Module",
    "ModuleList",
    "Parameter",
    "Sequential",
    "__version__",
    "dropout",
    "linear",
]

load_kernels(__name__)  # gradstack.layers.kernels (linear folded into rows), when this copy has one
