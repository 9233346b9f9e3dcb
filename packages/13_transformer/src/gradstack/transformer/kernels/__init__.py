"""Kernels of gradstack.transformer: layer norm on rows and folded into the next product,
cached decoding, sharded forward.

Imported by ``load_kernels`` at the end of the package's ``__init__``; a released
student copy has no ``kernels`` folder and runs the references only.
"""

from . import decode, fused_block, layer_norm, normed_linear, sharded

__all__ = ["decode", "fused_block", "layer_norm", "normed_linear", "sharded"]
