"""nanoGPT's weight initialization for GPT, drawn from gradstack's seeded generator."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from gradstack.layers import Parameter
from gradstack.tensor import default_generator

if TYPE_CHECKING:
    from .gpt import GPT

INIT_STD = 0.02


def normal_(parameter: Parameter, std: float) -> None:
    """Fill ``parameter`` in place with N(0, std^2) samples."""
    samples = default_generator().standard_normal(parameter.shape, dtype=np.float64) * std
    parameter.data[...] = samples


def zeros_(parameter: Parameter | None) -> None:
    """Fill ``parameter`` in place with zeros (no-op for a layer without bias)."""
    if parameter is not None:
        parameter.data.fill(0)


def init_gpt_weights(model: GPT) -> None:
    """Initialize like nanoGPT / GPT-2.

    - token and position embeddings, every Linear weight: N(0, 0.02^2);
    - every Linear bias: 0; LayerNorm gamma 1, beta 0 (their own defaults);
    - the projections that write into the residual stream (``attn.out_proj`` and
      ``mlp.linear2`` of each block): N(0, (0.02 / sqrt(2 * num_layers))^2), because
      each block adds two of them to the stream and the sum's variance would otherwise
      grow with depth.
    """
    residual_std = INIT_STD / math.sqrt(2 * model.config.num_layers)
    normal_(model.token_embedding.weight, INIT_STD)
    normal_(model.position_embedding.weight, INIT_STD)
    for block in model.blocks:
        attn, mlp = block.attn, block.mlp
        for linear in (attn.q_proj, attn.k_proj, attn.v_proj, mlp.linear1):
            normal_(linear.weight, INIT_STD)
            zeros_(linear.bias)
        for linear in (attn.out_proj, mlp.linear2):
            normal_(linear.weight, residual_std)
            zeros_(linear.bias)
    normal_(model.lm_head.weight, INIT_STD)
