"""Gradient rules, one file per earlier package; importing this registers them all."""

from . import activations, layers, losses, tensor

__all__ = ["activations", "layers", "losses", "tensor"]
