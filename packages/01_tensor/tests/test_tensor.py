"""The Tensor object: attributes, conversions, repr, and backward without autograd."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import gradstack.tensor as gt
from gradstack.tensor import Tensor


def test_attributes():
    t = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert isinstance(t.data, np.ndarray)
    assert t.shape == (2, 3) and t.ndim == 2 and t.dtype == np.float32
    assert t.numel() == 6 and len(t) == 2
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-2) == 2
    assert t.grad is None and t.grad_fn is None and not t.requires_grad and t.is_leaf


def test_numpy_shares_the_data_and_item_gives_a_python_number():
    t = Tensor([[2.5]])
    assert t.numpy() is t.data
    value = t.item()
    assert value == 2.5 and isinstance(value, float)
    assert isinstance(Tensor([3]).item(), int)
    assert Tensor([True]).item() is True


def test_bool_of_a_one_element_tensor():
    assert bool(Tensor([1.0]))
    assert not bool(Tensor(0.0))


def test_detach_shares_data_and_drops_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).detach()
    assert y.grad_fn is None and not y.requires_grad
    z = x.detach()
    assert z.data is x.data


def test_tensors_hash_by_identity():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert len({a, b}) == 2
    assert {a: 1}[a] == 1


def test_repr_shows_values_shape_dtype_and_grad_state():
    t = Tensor([[1.0, 2.0], [3.0, 4.5]])
    text = repr(t)
    assert text.startswith("Tensor([[1. , 2. ],")
    assert "shape=(2, 2)" in text and "dtype=float32" in text
    assert "requires_grad" not in text and "grad_fn" not in text
    leaf = Tensor([1.0, 2.0], requires_grad=True)
    assert repr(leaf) == "Tensor([1., 2.], shape=(2,), dtype=float32, requires_grad=True)"
    assert repr(leaf - 1) == "Tensor([0., 1.], shape=(2,), dtype=float32, grad_fn=<SubBackward>)"
    assert repr(Tensor(3)) == "Tensor(3, shape=(), dtype=int64)"


def test_repr_of_a_large_tensor_is_summarised():
    text = repr(gt.zeros(1000))
    assert "..." in text and "shape=(1000,)" in text
    assert len(text) < 200


def test_str_is_repr():
    t = Tensor([1.0])
    assert str(t) == repr(t)


def test_backward_without_the_autograd_package_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "gradstack.autograd", None)
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    with pytest.raises(RuntimeError, match="gradstack-autograd") as info:
        loss.backward()
    assert "pip install" in str(info.value)
    assert x.grad is None


def test_zero_dim_results_are_ndarrays():
    """NumPy returns scalars for 0-d results; a Tensor's data is always an ndarray."""
    from gradstack.tensor import Tensor

    for result in (Tensor(2.0).exp(), Tensor([1.0, 2.0]).sum(), Tensor([[1.0]])[0, 0]):
        assert type(result.data) is np.ndarray
        assert result.data.shape == ()
