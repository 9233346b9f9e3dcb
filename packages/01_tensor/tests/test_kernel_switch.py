"""The kernel registry: register_kernel, the switch (environment, context manager), load_kernels.

Each test registers a throwaway op with a kernel that is told apart from the reference by
what it saves, and removes both afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import gradstack.tensor as gt
from gradstack.tensor import OPS, Tensor, kernels_enabled, no_grad, register_kernel, use_references
from gradstack.tensor.kernel_registry import ENV_VAR, unregister_kernel


def reference_forward(a: np.ndarray) -> tuple[np.ndarray, str]:
    """The reference of the test op: 3a, saving a marker."""
    return 3 * a, "reference"


def kernel_forward(a: np.ndarray) -> tuple[np.ndarray, str]:
    """The kernel of the test op: the same 3a, saving another marker."""
    return a + a + a, "kernel"


def kernel_backward(grad: np.ndarray, node: gt.Node) -> tuple[np.ndarray]:
    """The kernel's gradient of 3a."""
    return (3 * grad,)


@pytest.fixture
def triple() -> Iterator[gt.Op]:
    """A temporary op ``test_triple_01`` with a kernel; both removed afterwards."""
    op = gt.register_op("test_triple_01")(reference_forward)
    register_kernel("test_triple_01", kernel_forward, kernel_backward)
    try:
        yield op
    finally:
        unregister_kernel("test_triple_01")
        del OPS["test_triple_01"]


def test_the_kernel_runs_when_enabled_and_its_node_remembers_it(triple: gt.Op):
    x = Tensor([1.0, 2.0], requires_grad=True)
    with use_references():
        pass  # entering and leaving restores the switch
    enabled = kernels_enabled()
    out = gt.apply(triple, x)
    np.testing.assert_array_equal(out.data, [3.0, 6.0])
    if enabled:
        assert out.grad_fn.saved == "kernel"
        assert out.grad_fn.kernel is triple.kernel
        assert out.grad_fn.kernel.backward is kernel_backward
    else:  # the whole run has GRADSTACK_KERNELS=0
        assert out.grad_fn.saved == "reference" and out.grad_fn.kernel is None
    assert out.grad_fn.name() == "TestTriple01Backward"  # the same op either way


def test_use_references_runs_the_reference_and_records_no_kernel(triple: gt.Op):
    x = Tensor([1.0, 2.0], requires_grad=True)
    with use_references():
        assert kernels_enabled() is False
        out = gt.apply(triple, x)
    assert out.grad_fn.saved == "reference"
    assert out.grad_fn.kernel is None
    np.testing.assert_array_equal(out.data, [3.0, 6.0])


def test_use_references_nests_and_restores_after_an_exception():
    before = kernels_enabled()
    with use_references():
        with use_references():
            assert not kernels_enabled()
        assert not kernels_enabled()
    assert kernels_enabled() is before
    with pytest.raises(KeyError), use_references():
        raise KeyError("inside")
    assert kernels_enabled() is before


def test_without_grad_the_kernel_still_runs_and_records_nothing(triple: gt.Op):
    if not kernels_enabled():
        pytest.skip("GRADSTACK_KERNELS=0 for this run: there is no kernel to run")
    calls = []

    def counting(a: np.ndarray) -> tuple[np.ndarray, str]:
        calls.append(a.shape)
        return kernel_forward(a)

    register_kernel("test_triple_01", counting, kernel_backward)
    with no_grad():
        out = gt.apply(triple, Tensor([1.0], requires_grad=True))
    assert out.grad_fn is None and not out.requires_grad
    assert calls == [(1,)]


def test_register_kernel_needs_an_existing_differentiable_op():
    with pytest.raises(KeyError, match="no op named 'no_such_op'"):
        register_kernel("no_such_op", kernel_forward, kernel_backward)
    with pytest.raises(ValueError, match="op 'eq' is not differentiable"):
        register_kernel("eq", kernel_forward, kernel_backward)
    with pytest.raises(TypeError, match="register_kernel: forward and backward of 'exp'"):
        register_kernel("exp", kernel_forward, None)  # type: ignore[arg-type]
    assert OPS["exp"].kernel is None


def test_a_second_kernel_from_another_module_is_refused(triple: gt.Op):
    other = lambda a: (a, None)  # noqa: E731
    other.__module__ = "somewhere.else"
    with pytest.raises(
        ValueError, match=rf"already has a kernel in {__name__}; the one in somewhere.else"
    ):
        register_kernel("test_triple_01", other, kernel_backward)
    assert triple.kernel.forward is kernel_forward


def run_python(code: str, value: str | None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with GRADSTACK_KERNELS set to ``value`` (or unset)."""
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    if value is not None:
        env[ENV_VAR] = value
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize(
    ("value", "enabled"),
    [(None, True), ("1", True), ("0", False), ("off", False), ("FALSE", False), ("yes", True)],
)
def test_the_environment_variable_sets_the_switch_at_import(value: str | None, enabled: bool):
    result = run_python("import gradstack.tensor as t; print(t.kernels_enabled())", value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(enabled)


def test_a_bad_value_of_the_environment_variable_is_a_clear_error():
    result = run_python("import gradstack.tensor", "maybe")
    assert result.returncode != 0
    assert "GRADSTACK_KERNELS='maybe': expected 0 (references only) or 1" in result.stderr


def test_load_kernels_imports_the_kernel_module_when_there_is_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with_kernels = tmp_path / "pkg_with_kernels_01"
    with_kernels.mkdir()
    (with_kernels / "__init__.py").write_text("")
    (with_kernels / "kernels.py").write_text("LOADED = 'yes'\n")
    without = tmp_path / "pkg_without_kernels_01"
    without.mkdir()
    (without / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = gt.load_kernels("pkg_with_kernels_01")
        assert module is not None and module.LOADED == "yes"
        assert gt.load_kernels("pkg_without_kernels_01") is None
    finally:
        for name in (
            "pkg_with_kernels_01",
            "pkg_with_kernels_01.kernels",
            "pkg_without_kernels_01",
        ):
            sys.modules.pop(name, None)


def test_a_kernel_module_that_fails_to_import_is_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    package = tmp_path / "pkg_broken_kernels_01"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "kernels.py").write_text("import no_such_module_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(ModuleNotFoundError, match="no_such_module_anywhere"):
            gt.load_kernels("pkg_broken_kernels_01")
    finally:
        sys.modules.pop("pkg_broken_kernels_01", None)
