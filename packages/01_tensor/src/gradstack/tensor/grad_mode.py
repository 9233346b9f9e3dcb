"""Grad mode: whether ops record their provenance for a later backward pass."""

from __future__ import annotations

from contextlib import ContextDecorator
from types import TracebackType


class _GradMode:
    """The one switch every op reads; a class attribute is the cheapest global to read."""

    enabled: bool = True


def is_grad_enabled() -> bool:
    """Return True when ops record provenance (the default)."""
    return _GradMode.enabled


class set_grad_enabled(ContextDecorator):  # noqa: N801 (PyTorch's name)
    """Turn grad mode on or off; works as a call, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __enter__(self) -> set_grad_enabled:
        _GradMode.enabled = self.mode
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _GradMode.enabled = self.previous


class no_grad(ContextDecorator):  # noqa: N801 (PyTorch's name)
    """Context manager and decorator: ops inside record nothing (inference, optimizer steps)."""

    def __enter__(self) -> no_grad:
        self.previous = _GradMode.enabled
        _GradMode.enabled = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _GradMode.enabled = self.previous


class enable_grad(ContextDecorator):  # noqa: N801 (PyTorch's name)
    """Context manager and decorator: turn grad mode back on inside a no_grad block."""

    def __enter__(self) -> enable_grad:
        self.previous = _GradMode.enabled
        _GradMode.enabled = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _GradMode.enabled = self.previous
