"""The loss classes: options, defaults and repr."""

import numpy as np
import pytest

from gradstack.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from gradstack.tensor import Tensor


def test_defaults_match_pytorch():
    loss = CrossEntropyLoss()
    assert (loss.ignore_index, loss.label_smoothing, loss.reduction) == (-100, 0.0, "mean")
    for cls in (MSELoss, BCELoss, BCEWithLogitsLoss):
        assert cls().reduction == "mean"


def test_repr():
    assert repr(MSELoss()) == "MSELoss(reduction='mean')"
    assert repr(BCEWithLogitsLoss(reduction="sum")) == "BCEWithLogitsLoss(reduction='sum')"
    assert (
        repr(CrossEntropyLoss(ignore_index=0, label_smoothing=0.1, reduction="none"))
        == "CrossEntropyLoss(ignore_index=0, label_smoothing=0.1, reduction='none')"
    )


def test_label_smoothing_given_as_int_is_stored_as_float():
    assert CrossEntropyLoss(label_smoothing=1).label_smoothing == 1.0
    assert isinstance(CrossEntropyLoss(ignore_index=np.int64(3)).ignore_index, int)


def test_base_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Loss must define forward"):
        Loss()(Tensor([1.0]), Tensor([1.0]))


def test_losses_are_plain_callables_that_record_the_graph():
    logits = Tensor(np.zeros((2, 3)), requires_grad=True)
    out = CrossEntropyLoss()(logits, np.array([0, 2]))
    np.testing.assert_allclose(out.item(), np.log(3), rtol=1e-6)
    assert out.grad_fn.name() == "CrossEntropyBackward"
