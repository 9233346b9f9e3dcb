"""gradstack.tensor: the Tensor, its forward ops, the op registry and grad mode (module 01)."""

from . import runtime
from .__about__ import __version__
from .blas_pool import note_blas_held
from .cache_blocking import CACHE_BLOCK, cache_blocks, row_blocks
from .checks import check_positive_int, check_probability, normalize_dim
from .creation import arange, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .functional import cat, split, stack, where
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck_table import (
    Built,
    GradCase,
    TorchCase,
    ValueCase,
    cases_of,
    f64,
    module_case,
    randomized,
    torch_leaf,
)
from .intra_op import (
    LARGE_CALL,
    blocks_for,
    in_worker,
    intra_op_settings,
    intra_op_threads,
    run_blocks,
    set_intra_op_threads,
    worker_scope,
)
from .kernel_registry import (
    KERNELS,
    Kernel,
    kernels_enabled,
    load_kernels,
    register_kernel,
    use_references,
)
from .matvec_sums import mean_last, sum_last, sum_rows
from .node import AccumulateGrad, Node
from .registry import OPS, Op, get_op, register_op
from .rng import default_generator, generator_scope, manual_seed
from .runtime import blas_threads, restore_malloc, set_blas_threads, tune_malloc
from .tensor import Tensor, apply, as_tensor, get_op_hook, set_op_hook

runtime.apply_defaults()  # malloc tuning, once per process (GRADSTACK_MALLOC_TUNING=0: off)

__all__ = [
    "Built",
    "GradCase",
    "TorchCase",
    "ValueCase",
    "cases_of",
    "f64",
    "module_case",
    "randomized",
    "torch_leaf",
    "mean_last",
    "sum_last",
    "sum_rows",
    "blas_threads",
    "note_blas_held",
    "CACHE_BLOCK",
    "cache_blocks",
    "row_blocks",
    "LARGE_CALL",
    "blocks_for",
    "in_worker",
    "intra_op_settings",
    "intra_op_threads",
    "run_blocks",
    "set_blas_threads",
    "set_intra_op_threads",
    "worker_scope",
    "restore_malloc",
    "tune_malloc",
    "KERNELS",
    "OPS",
    "AccumulateGrad",
    "Kernel",
    "Node",
    "Op",
    "Tensor",
    "__version__",
    "apply",
    "arange",
    "as_tensor",
    "cat",
    "check_positive_int",
    "check_probability",
    "default_generator",
    "generator_scope",
    "enable_grad",
    "get_op",
    "is_grad_enabled",
    "kernels_enabled",
    "load_kernels",
    "manual_seed",
    "no_grad",
    "normalize_dim",
    "ones",
    "ones_like",
    "rand",
    "randn",
    "register_kernel",
    "register_op",
    "set_grad_enabled",
    "get_op_hook",
    "set_op_hook",
    "split",
    "stack",
    "tensor",
    "use_references",
    "where",
    "zeros",
    "zeros_like",
]

load_kernels(__name__)  # gradstack.tensor.kernels, when this copy has one
