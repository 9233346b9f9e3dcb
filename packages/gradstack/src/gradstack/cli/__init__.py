"""gradstack.cli: the ``gradstack`` command (train, generate, check, bench)."""

from .__about__ import __version__

__all__ = ["__version__"]
