"""gradstack.autograd: gradient rules for every op of 01–04, the engine, gradcheck (module 05)."""

from gradstack.tensor import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

from . import rules
from .__about__ import __version__
from .engine import backward, grad, sum_to_shape, topological_order
from .flow_report import FlowReport, FlowRow, flow_report
from .gradcheck import GradcheckResult, check_gradients, gradcheck
from .gradcheck_runner import compare_with_torch, run_case
from .graph_dot import render_dot, to_dot
from .parallel import data_parallel_backward, shard_batch, suggest_shards
from .profiler import ProfileRow, profile
from .registry import NOT_DIFFERENTIATED, RULES, get_rule, missing_rules, register_rule
from .sharded import sharded_call, shards_for, use_shards

__all__ = [
    "compare_with_torch",
    "run_case",
    "NOT_DIFFERENTIATED",
    "ProfileRow",
    "RULES",
    "FlowReport",
    "FlowRow",
    "GradcheckResult",
    "__version__",
    "backward",
    "check_gradients",
    "data_parallel_backward",
    "enable_grad",
    "flow_report",
    "get_rule",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "missing_rules",
    "profile",
    "no_grad",
    "register_rule",
    "render_dot",
    "rules",
    "set_grad_enabled",
    "shard_batch",
    "sharded_call",
    "shards_for",
    "suggest_shards",
    "sum_to_shape",
    "to_dot",
    "topological_order",
    "use_shards",
]
