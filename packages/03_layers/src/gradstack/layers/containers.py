"""Containers: Sequential (a pipeline), ModuleList (an indexable list), and Identity.

Both containers hold any callable: Modules, and also parameter-free callables such as
``gradstack.activations.ReLU()`` objects, which are not Modules. Their children are
named by position, ``"0"``, ``"1"``, ... so names read ``blocks.0.attn.q_proj.weight``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from gradstack.tensor import Tensor

from .module import Module, _expand


def _check_callable(owner: str, index: int, item: Any) -> Any:
    """Containers accept Modules and other callables only."""
    if not callable(item):
        raise TypeError(
            f"{owner}: item {index} must be a Module or another callable, got {type(item).__name__}"
        )
    return item


class _Container(Module):
    """Shared behaviour: items kept in a list and named by position."""

    _walk_skip = Module._walk_skip | {"_items"}

    def __init__(self, items: Iterable[Callable[..., Any]]) -> None:
        super().__init__()
        self._items: list[Callable[..., Any]] = []
        self.extend(items)

    def _named_members(self) -> Iterator[tuple[str, Any]]:
        for index, item in enumerate(self._items):
            yield from _expand(str(index), item)
        yield from super()._named_members()

    def _repr_children(self) -> Iterator[tuple[str, Any]]:
        return ((str(index), item) for index, item in enumerate(self._items))

    def _position(self, index: int) -> int:
        """A possibly negative index checked against the length."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(
                f"{type(self).__name__}: index must be an int or a slice, "
                f"got {type(index).__name__}"
            )
        if not -len(self._items) <= index < len(self._items):
            raise IndexError(
                f"{type(self).__name__}: index {index} is out of range for {len(self._items)} items"
            )
        return index % len(self._items)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(*self._items[index])
        return self._items[self._position(index)]

    def __setitem__(self, index: int, item: Callable[..., Any]) -> None:
        position = self._position(index)
        self._items[position] = _check_callable(type(self).__name__, position, item)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._items))

    def append(self, item: Callable[..., Any]) -> _Container:
        """Add one item at the end."""
        self._items.append(_check_callable(type(self).__name__, len(self._items), item))
        return self

    def extend(self, items: Iterable[Callable[..., Any]]) -> _Container:
        """Add several items at the end."""
        if isinstance(items, (Module, Tensor)) or not isinstance(items, Iterable):
            raise TypeError(
                f"{type(self).__name__}: extend expects an iterable of items, "
                f"got {type(items).__name__}"
            )
        for item in items:
            self.append(item)
        return self


class Sequential(_Container):
    """Call each item on the output of the previous one: ``Sequential(Linear(2, 8), ReLU())``."""

    def __init__(self, *items: Callable[..., Any]) -> None:
        super().__init__(items)

    def forward(self, x: Any) -> Any:
        """Run the pipeline: each item is called on the previous item's output."""
        # HINT: an empty Sequential returns its input unchanged.
        # BEGIN SOLUTION
        for item in self._items:
            x = item(x)
        return x
        # END SOLUTION


class ModuleList(_Container):
    """A list of modules whose parameters the parent finds, named "0", "1", ..."""

    def __init__(self, modules: Iterable[Callable[..., Any]] = ()) -> None:
        super().__init__(modules)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(self._items[index])
        return super().__getitem__(index)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """A ModuleList has no forward of its own: iterate over it in the parent's forward."""
        raise NotImplementedError(
            "ModuleList: has no forward(); loop over it in the parent's forward, "
            "or use Sequential for a pipeline"
        )


class Identity(Module):
    """Returns its input unchanged (a placeholder where a layer is optional)."""

    def forward(self, x: Any) -> Any:
        """Return ``x``."""
        return x
