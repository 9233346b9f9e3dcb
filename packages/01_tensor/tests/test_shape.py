"""Shape ops: values against NumPy, views where NumPy gives views, requires_grad kept."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.tensor import Tensor, cat, split, stack

DATA = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


def test_reshape_accepts_varargs_a_tuple_and_minus_one():
    t = Tensor(DATA)
    for out in (t.reshape(6, 4), t.reshape((6, 4)), t.reshape([6, 4]), t.reshape(-1, 4)):
        assert out.shape == (6, 4)
        np.testing.assert_array_equal(out.data, DATA.reshape(6, 4))
    assert t.reshape(-1).shape == (24,)
    assert t.reshape(np.int64(4), 6).shape == (4, 6)


def test_view_is_reshape():
    np.testing.assert_array_equal(Tensor(DATA).view(4, 6).data, DATA.reshape(4, 6))


def test_transpose_defaults_to_the_last_two_dims():
    out = Tensor(DATA).transpose()
    assert out.shape == (2, 4, 3)
    np.testing.assert_array_equal(out.data, DATA.swapaxes(-2, -1))


@pytest.mark.parametrize(("dim0", "dim1"), [(0, 2), (2, 0), (-3, -1), (1, 1), (0, -2)])
def test_transpose_any_two_dims(dim0, dim1):
    out = Tensor(DATA).transpose(dim0, dim1)
    np.testing.assert_array_equal(out.data, np.swapaxes(DATA, dim0, dim1))


def test_T_of_a_matrix():
    m = DATA[0]
    np.testing.assert_array_equal(Tensor(m).T.data, m.T)


@pytest.mark.parametrize("dims", [(2, 0, 1), (0, 1, 2), (-1, -3, -2)])
def test_permute_matches_numpy_transpose(dims):
    out = Tensor(DATA).permute(*dims)
    np.testing.assert_array_equal(out.data, np.transpose(DATA, dims))
    np.testing.assert_array_equal(Tensor(DATA).permute(dims).data, np.transpose(DATA, dims))


@pytest.mark.parametrize(
    ("dim", "shape"),
    [
        (0, (1, 2, 3, 4)),
        (2, (2, 3, 1, 4)),
        (-1, (2, 3, 4, 1)),
        (3, (2, 3, 4, 1)),
        (-4, (1, 2, 3, 4)),
    ],
)
def test_unsqueeze_inserts_a_dim_like_pytorch(dim, shape):
    out = Tensor(DATA).unsqueeze(dim)
    assert out.shape == shape
    np.testing.assert_array_equal(out.data.reshape(DATA.shape), DATA)


def test_squeeze_all_one_dims_or_the_given_ones():
    t = Tensor(np.ones((1, 3, 1, 2), dtype=np.float32))
    assert t.squeeze().shape == (3, 2)
    assert t.squeeze(0).shape == (3, 1, 2)
    assert t.squeeze(-2).shape == (1, 3, 2)
    assert t.squeeze((0, 2)).shape == (3, 2)
    assert t.squeeze(1).shape == (1, 3, 1, 2)  # size 3: left alone, as in PyTorch


def test_expand_broadcasts_and_keeps_minus_one_dims():
    t = Tensor(np.array([[1.0], [2.0], [3.0]], dtype=np.float32))
    out = t.expand(2, 3, 4)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.data, np.broadcast_to(t.data, (2, 3, 4)))
    assert t.expand(-1, 5).shape == (3, 5)
    assert t.expand((3, 2)).shape == (3, 2)


# -- views, not copies -------------------------------------------------------------------

VIEWS = {
    "reshape": lambda t: t.reshape(6, 4),
    "view": lambda t: t.view(-1),
    "transpose": lambda t: t.transpose(0, 2),
    "permute": lambda t: t.permute(2, 0, 1),
    "unsqueeze": lambda t: t.unsqueeze(1),
    "squeeze": lambda t: t.unsqueeze(0).squeeze(0),
    "expand": lambda t: t.unsqueeze(0).expand(5, 2, 3, 4),
    "getitem-int": lambda t: t[1],
    "getitem-slice": lambda t: t[:, 1:, ::2],
    "getitem-ellipsis-none": lambda t: t[..., None, 0],
    "T": lambda t: t[0].T,
    "detach": lambda t: t.detach(),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_shape_ops_return_views(name):
    t = Tensor(DATA.copy())
    out = VIEWS[name](t)
    assert np.shares_memory(out.data, t.data)


def test_reshape_of_a_non_contiguous_tensor_copies_like_numpy():
    t = Tensor(DATA).transpose(0, 2)
    out = t.reshape(-1)
    np.testing.assert_array_equal(out.data, DATA.transpose(2, 1, 0).reshape(-1))


@pytest.mark.parametrize("name", sorted(set(VIEWS) - {"detach"}))
def test_shape_ops_preserve_requires_grad(name):
    t = Tensor(DATA, requires_grad=True)
    out = VIEWS[name](t)
    assert out.requires_grad
    assert out.grad_fn is not None


# -- split, cat, stack -----------------------------------------------------------------


def test_split_with_an_int_gives_chunks_of_that_size_like_pytorch():
    t = Tensor(np.arange(10, dtype=np.float32))
    pieces = t.split(3)
    assert [p.shape for p in pieces] == [(3,), (3,), (3,), (1,)]
    np.testing.assert_array_equal(np.concatenate([p.data for p in pieces]), t.data)


def test_split_with_sections_gives_those_sizes():
    t = Tensor(DATA)
    pieces = t.split([1, 3], dim=-1)
    assert [p.shape for p in pieces] == [(2, 3, 1), (2, 3, 3)]
    np.testing.assert_array_equal(pieces[0].data, DATA[..., :1])
    np.testing.assert_array_equal(pieces[1].data, DATA[..., 1:])


def test_split_with_a_zero_section_and_a_large_size():
    t = Tensor(DATA)
    pieces = t.split((0, 2), dim=0)
    assert [p.shape for p in pieces] == [(0, 3, 4), (2, 3, 4)]
    assert [p.shape for p in t.split(10, dim=1)] == [(2, 3, 4)]


def test_split_pieces_are_views_and_keep_requires_grad():
    t = Tensor(DATA, requires_grad=True)
    pieces = split(t, 2, dim=2)
    assert len(pieces) == 2
    for piece in pieces:
        assert np.shares_memory(piece.data, t.data)
        assert piece.requires_grad


def test_cat_matches_numpy_concatenate():
    a, b = DATA, DATA[:, :2] + 100
    out = cat([Tensor(a), Tensor(b)], dim=1)
    np.testing.assert_array_equal(out.data, np.concatenate([a, b], axis=1))
    out = cat((Tensor(a), Tensor(a)), dim=-1)
    assert out.shape == (2, 3, 8)
    assert cat([Tensor(a)]).shape == a.shape


@pytest.mark.parametrize("dim", [0, 1, 3, -1, -4])
def test_stack_matches_numpy_stack(dim):
    out = stack([Tensor(DATA), Tensor(DATA * 2), Tensor(DATA * 3)], dim=dim)
    np.testing.assert_array_equal(out.data, np.stack([DATA, DATA * 2, DATA * 3], axis=dim))


def test_cat_and_stack_of_integer_and_float_tensors_are_float32():
    assert cat([Tensor([1, 2]), Tensor([0.5])]).dtype == np.float32
    assert stack([Tensor([1, 2]), Tensor([0.5, 1.5])]).dtype == np.float32
