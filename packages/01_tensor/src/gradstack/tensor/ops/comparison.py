"""Comparisons: boolean results that carry no gradient."""

from __future__ import annotations

import numpy as np

from .arithmetic import elementwise_binary

eq = elementwise_binary("eq", np.equal, differentiable=False)
ne = elementwise_binary("ne", np.not_equal, differentiable=False)
lt = elementwise_binary("lt", np.less, differentiable=False)
le = elementwise_binary("le", np.less_equal, differentiable=False)
gt = elementwise_binary("gt", np.greater, differentiable=False)
ge = elementwise_binary("ge", np.greater_equal, differentiable=False)
