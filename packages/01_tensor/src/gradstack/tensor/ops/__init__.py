"""Forward ops of module 01, grouped by kind; importing this registers them all."""

from . import arithmetic, comparison, elementwise, indexing, joining, reductions, shape

__all__ = ["arithmetic", "comparison", "elementwise", "indexing", "joining", "reductions", "shape"]
