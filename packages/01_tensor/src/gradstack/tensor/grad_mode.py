"""Grad mode: whether ops record their provenance for a later backward pass.

``no_grad``, ``enable_grad`` and ``set_grad_enabled`` work as context managers and as
decorators. Each use saves the mode it found and restores it on exit, so they nest,
recurse and survive exceptions; a decorated function gets a fresh context per call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode:
    """The one switch every op reads; a class attribute is the cheapest global to read."""

    enabled: bool = True


def is_grad_enabled() -> bool:
    """Return True when ops record provenance (the default)."""
    return _GradMode.enabled


class _ModeContext:
    """Sets grad mode to ``self.mode`` on entry and restores the previous mode on exit."""

    mode: bool

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> _ModeContext:
        self._previous.append(_GradMode.enabled)
        _GradMode.enabled = self.mode
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _GradMode.enabled = self._previous.pop()

    def __call__(self, func: F) -> F:
        """Use as a decorator: ``func`` runs in this grad mode, each call in its own context."""
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _Fixed(mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class _Fixed(_ModeContext):
    """A plain context for a given mode (what the decorators enter on every call)."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = mode


class no_grad(_ModeContext):  # noqa: N801 (PyTorch's name)
    """Context manager and decorator: ops inside record nothing (inference, optimizer steps)."""

    mode = False


class enable_grad(_ModeContext):  # noqa: N801 (PyTorch's name)
    """Context manager and decorator: turn grad mode back on inside a no_grad block."""

    mode = True


class set_grad_enabled(_ModeContext):  # noqa: N801 (PyTorch's name)
    """Turn grad mode on or off; works as a call, a context manager or a decorator.

    As in PyTorch, calling it sets the mode at once (``set_grad_enabled(False)`` on its
    own line switches recording off); ``with`` restores the previous mode on exit, and
    as a decorator it leaves the mode alone until the decorated function runs.
    """

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = bool(mode)
        self._previous.append(_GradMode.enabled)
        self._switched = True  # the constructor switched; the first ``with`` restores
        _GradMode.enabled = self.mode

    def __enter__(self) -> set_grad_enabled:
        if self._switched:
            self._switched = False
        else:
            self._previous.append(_GradMode.enabled)
        _GradMode.enabled = self.mode
        return self

    def __call__(self, func: F) -> F:
        """Decorator use: undo the switch made by the constructor, apply it per call."""
        if self._switched:
            self._switched = False
            _GradMode.enabled = self._previous.pop()
        return super().__call__(func)
