"""The optimizer kernels: Adam and AdamW stepped on flat vectors with in-place arithmetic.

The reference update (gradstack.optim.adam) is Adam's four lines of math per parameter.
``adam_step`` gives the same results, bit for bit, with far fewer NumPy calls: a group
whose parameters all have gradients is stepped as one flat vector (flat.py), and every
update runs in place on one reusable work buffer (adam.py). ``Adam.step`` calls it
while ``gradstack.tensor.kernels_enabled()``; a released student copy has no kernels.
"""

from .adam import adam_step
from .flat import FlatGroup, can_flatten

__all__ = ["FlatGroup", "adam_step", "can_flatten"]
