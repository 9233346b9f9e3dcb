"""Parameter: a Tensor that a Module owns and an optimizer updates."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstack.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad and is found by ``Module.parameters()``.

    A parameter is always floating point: data from lists or arrays follow the Tensor
    rules (float32 unless the array is already floating), integer and bool data become
    float32. ``Parameter(tensor)`` shares the tensor's array and keeps its dtype, as
    ``torch.nn.Parameter`` does. Results of ops on parameters are plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        array = data.data if isinstance(data, Tensor) else Tensor(data).data
        if array.dtype.kind != "f":
            array = array.astype(np.float32)
        super().__init__(array, requires_grad=requires_grad, dtype=array.dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
