"""A row of the ``gradstack check`` table (no gradstack imports, so it always loads)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    """One line of the ``gradstack check`` table."""

    module: str
    component: str
    passed: int
    total: int
    worst_rel: float = 0.0
    flow: bool = True
    note: str = ""
    installed: bool = True

    @property
    def ok(self) -> bool:
        """Every check of the row passed and gradients reached every input."""
        return self.installed and self.flow and self.passed == self.total
