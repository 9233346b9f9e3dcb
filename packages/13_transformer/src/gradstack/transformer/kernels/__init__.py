"""Kernels of gradstack.transformer: layer norm on rows, cached decoding, sharded forward.

Imported by ``load_kernels`` at the end of the package's ``__init__``; a released
student copy has no ``kernels`` folder and runs the references only.
"""

from . import decode, layer_norm, sharded

__all__ = ["decode", "layer_norm", "sharded"]
