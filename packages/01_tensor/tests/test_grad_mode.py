"""Grad mode: no_grad, enable_grad, set_grad_enabled as contexts, decorators and calls."""

from __future__ import annotations

import pytest

from gradstack.tensor import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled


@pytest.fixture(autouse=True)
def grad_mode_is_restored():
    """Every test starts and must end with grad mode on."""
    assert is_grad_enabled()
    yield
    enabled = is_grad_enabled()
    set_grad_enabled(True)
    assert enabled, "the test left grad mode off"


def leaf() -> Tensor:
    """A leaf that requires grad."""
    return Tensor([1.0, 2.0], requires_grad=True)


def test_grad_mode_is_on_by_default():
    assert is_grad_enabled()
    assert (leaf() * 2).grad_fn is not None


def test_no_grad_context_records_nothing_and_restores():
    x = leaf()
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2
    assert is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert (x * 2).requires_grad


def test_enable_grad_inside_no_grad():
    x = leaf()
    with no_grad():
        with enable_grad():
            assert is_grad_enabled()
            y = x * 2
        assert not is_grad_enabled()
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_nested_no_grad_restores_each_level():
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_restores_after_an_exception():
    with pytest.raises(ValueError), no_grad():
        raise ValueError("boom")
    assert is_grad_enabled()


def test_no_grad_as_a_decorator():
    @no_grad()
    def double(t: Tensor) -> Tensor:
        """Docstring kept by functools.wraps."""
        return t * 2

    out = double(leaf())
    assert out.grad_fn is None
    assert is_grad_enabled()
    assert double.__name__ == "double" and "functools" in double.__doc__


def test_a_recursive_no_grad_function_restores_grad_mode():
    @no_grad()
    def depth(n: int) -> bool:
        return depth(n - 1) if n else is_grad_enabled()

    assert depth(3) is False
    assert is_grad_enabled()


def test_one_no_grad_object_can_be_reused_and_nested():
    context = no_grad()
    with context:
        with context:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_enable_grad_decorator_called_under_no_grad():
    @enable_grad()
    def make(t: Tensor) -> Tensor:
        return t * 2

    with no_grad():
        out = make(leaf())
        assert not is_grad_enabled()
    assert out.requires_grad


def test_set_grad_enabled_as_a_call_switches_at_once():
    set_grad_enabled(False)
    try:
        assert not is_grad_enabled()
        assert (leaf() * 2).grad_fn is None
    finally:
        set_grad_enabled(True)
    assert is_grad_enabled()


@pytest.mark.parametrize("mode", [False, True])
def test_set_grad_enabled_as_a_context_restores(mode):
    with no_grad():
        with set_grad_enabled(mode):
            assert is_grad_enabled() is mode
        assert not is_grad_enabled()
    with set_grad_enabled(mode):
        assert is_grad_enabled() is mode
    assert is_grad_enabled()


def test_set_grad_enabled_as_a_decorator_switches_only_inside_calls():
    @set_grad_enabled(False)
    def inference(t: Tensor) -> Tensor:
        assert not is_grad_enabled()
        return t * 2

    assert is_grad_enabled()  # decorating switched nothing
    assert inference(leaf()).grad_fn is None
    assert is_grad_enabled()
    with no_grad():
        inference(leaf())
        assert not is_grad_enabled()
