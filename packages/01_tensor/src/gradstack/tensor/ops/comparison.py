"""Comparisons: boolean results that carry no gradient."""

from __future__ import annotations

import numpy as np

from .arithmetic import elementwise_binary

eq_op = elementwise_binary("eq", np.equal, differentiable=False)
ne_op = elementwise_binary("ne", np.not_equal, differentiable=False)
lt_op = elementwise_binary("lt", np.less, differentiable=False)
le_op = elementwise_binary("le", np.less_equal, differentiable=False)
gt_op = elementwise_binary("gt", np.greater, differentiable=False)
ge_op = elementwise_binary("ge", np.greater_equal, differentiable=False)
