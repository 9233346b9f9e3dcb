"""Autoregressive generation for GPT: a KV-cache decoder, a recomputing one, and the loop.

The cached decoder keeps one ``KVCache`` of ``max_seq_len`` positions per block. The
prompt is run once (prefill, the last ``max_seq_len`` tokens if it is longer); after
that each new token is one forward pass over one position. Positions are learned
and absolute, so a full cache cannot slide by one: when it is full, it is emptied
and re-filled with the last ``max(1, max_seq_len // 2)`` tokens of the sequence (at
positions ``0 ..``), and one-token steps continue from there. Up to ``max_seq_len``
tokens this gives exactly what recomputing the whole context gives.

A cached step runs through the modules a student writes (the reference):
``GPT.hidden_states(tokens, caches)``, each block passing its cache to
``MultiHeadAttention.forward(cache=)``, in eval mode under ``no_grad``. When the
package's kernels are installed and enabled, the same step runs as the decoding kernel
instead (``kernels/decode.py``, registered with ``register_decoding_kernel``): the same
computation on arrays, no graph, no module touched, tested token for token against the
module path.

The recomputing decoder (``use_cache=False``) runs the model on the last
``max_seq_len`` tokens at every step, as nanoGPT does; it is the reference for the
equality test and the baseline for the benchmark. Every module path restores the
previous modes before the new column is handed out, so a caller that consumes the
stream slowly never sees the model or grad mode changed.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from gradstack.attention import KVCache
from gradstack.layers import Module
from gradstack.tensor import Tensor, kernels_enabled, no_grad

from .sampling import check_sampling, sample_next
from .tokens import check_tokens

if TYPE_CHECKING:
    from .gpt import GPT

# A cached step: logits (B, V) after tokens (B, T), whose keys and values are appended
# to the caches (one per block).
DecodeStep = Callable[[np.ndarray, list[KVCache]], np.ndarray]


class _DecodingKernel:
    """The decoding kernel's factory (model -> step), once ``kernels/decode.py`` registers it."""

    factory: Callable[[GPT], DecodeStep] | None = None


def register_decoding_kernel(factory: Callable[[GPT], DecodeStep]) -> None:
    """Install the kernel that ``CachedDecoder`` runs instead of the modules (kernels on)."""
    if not callable(factory):
        raise TypeError("register_decoding_kernel: factory must be a callable model -> step")
    _DecodingKernel.factory = factory


@contextmanager
def inference_mode(modules: list[Module]) -> Iterator[None]:
    """Eval mode on ``modules`` (a model's ``list(model.modules())``, walked once per
    generation, not per token) and ``no_grad``; each module's mode is restored after."""
    modes = [module.training for module in modules]
    for module in modules:
        module.training = False
    try:
        with no_grad():
            yield
    finally:
        for module, training in zip(modules, modes):
            module.training = training


def last_position_logits(
    model: GPT, idx: np.ndarray, caches: list[KVCache] | None, modules: list[Module]
) -> np.ndarray:
    """Logits (B, V) of the last position only (the head runs on one position, not T),
    through the modules in eval mode under ``no_grad``; with ``caches`` the tokens
    continue the cached positions and are appended to the caches."""
    with inference_mode(modules):
        hidden = model.hidden_states(idx, caches)  # (B, T, C)
        return model.lm_head(hidden[:, -1]).data  # (B, C) -> (B, V)


class CachedDecoder:
    """Feeds tokens through the model one position at a time, using per-block KV caches.

    ``step`` is the decoding kernel when one is registered and kernels are enabled
    (``gradstack.tensor.kernels_enabled()``, checked once per decoder), else the
    module path.
    """

    def __init__(self, model: GPT, batch_size: int) -> None:
        config = model.config
        dtype = model.lm_head.weight.dtype
        self.model = model
        self.max_len = config.max_seq_len
        self.refill_len = max(1, config.max_seq_len // 2)
        self.caches = [
            KVCache(batch_size, config.num_heads, config.max_seq_len, config.head_dim, dtype=dtype)
            for _ in range(config.num_layers)
        ]
        self.modules = list(model.modules())
        factory = _DecodingKernel.factory
        self.step: DecodeStep = (
            factory(model) if factory is not None and kernels_enabled() else self.module_step
        )

    def module_step(self, tokens: np.ndarray, caches: list[KVCache]) -> np.ndarray:
        """The reference step: ``tokens`` (B, T) through the modules with the caches."""
        return last_position_logits(self.model, tokens, caches, self.modules)

    def prefill(self, window: np.ndarray) -> np.ndarray:
        """Empty the caches, run ``window`` (B, W) through them; logits (B, V) of its end."""
        for cache in self.caches:
            cache.reset()
        return self.step(window, self.caches)

    def next_logits(self, sequence: np.ndarray) -> np.ndarray:
        """Logits after ``sequence`` (B, n), whose first n - 1 tokens are already cached."""
        if self.caches[0].length == self.max_len:
            return self.prefill(sequence[:, -self.refill_len :])  # (B, refill_len)
        return self.step(sequence[:, -1:], self.caches)  # (B, 1)


class RecomputingDecoder:
    """Runs the model on the whole (cropped) context at every step: no cache."""

    def __init__(self, model: GPT) -> None:
        self.model = model
        self.max_len = model.config.max_seq_len
        self.modules = list(model.modules())

    def prefill(self, window: np.ndarray) -> np.ndarray:
        """Logits (B, V) after ``window`` (B, W), W <= max_seq_len."""
        return last_position_logits(self.model, window, None, self.modules)

    def next_logits(self, sequence: np.ndarray) -> np.ndarray:
        """Logits after the last ``max_seq_len`` tokens of ``sequence`` (B, n)."""
        return last_position_logits(self.model, sequence[:, -self.max_len :], None, self.modules)


def _check_max_new_tokens(max_new_tokens: Any) -> int:
    """A non-negative int."""
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, numbers.Integral):
        raise TypeError(f"generate: max_new_tokens must be an int, got {max_new_tokens!r}")
    if max_new_tokens < 0:
        raise ValueError(f"generate: max_new_tokens must be >= 0, got {max_new_tokens}")
    return int(max_new_tokens)


def generate_stream(
    model: GPT,
    tokens: Any,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    use_cache: bool = True,
) -> Iterator[np.ndarray]:
    """Check every argument now, then return an iterator of new token columns (B,) int64."""
    idx = check_tokens("generate", tokens, model.config, crop=True)
    count = _check_max_new_tokens(max_new_tokens)
    check_sampling(temperature, top_k, model.config.vocab_size)
    if not isinstance(use_cache, bool):
        raise TypeError(f"generate: use_cache must be True or False, got {use_cache!r}")
    return _stream(model, idx, count, float(temperature), top_k, use_cache)


def _stream(
    model: GPT, idx: np.ndarray, count: int, temperature: float, top_k: int | None, cached: bool
) -> Iterator[np.ndarray]:
    """The decoding loop: sample from the logits, append, compute the next logits."""
    if count == 0:
        return
    batch_size, prompt_len = idx.shape
    sequence = np.empty((batch_size, prompt_len + count), dtype=np.int64)  # (B, T + N)
    sequence[:, :prompt_len] = idx
    decoder = CachedDecoder(model, batch_size) if cached else RecomputingDecoder(model)
    logits = decoder.prefill(idx[:, -model.config.max_seq_len :])  # (B, V)
    for length in range(prompt_len, prompt_len + count):
        column = sample_next(logits, temperature, top_k)  # (B,)
        sequence[:, length] = column
        yield column.copy()
        if length + 1 < prompt_len + count:
            logits = decoder.next_logits(sequence[:, : length + 1])


def generate(
    model: GPT,
    tokens: Any,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    use_cache: bool = True,
) -> Tensor:
    """The prompt followed by ``max_new_tokens`` sampled tokens: int64 Tensor (B, T + N)."""
    idx = check_tokens("generate", tokens, model.config, crop=True)
    columns = list(generate_stream(model, idx, max_new_tokens, temperature, top_k, use_cache))
    new = np.stack(columns, axis=1) if columns else np.empty((idx.shape[0], 0), np.int64)
    return Tensor(np.concatenate([idx, new], axis=1))  # (B, T) ++ (B, N) -> (B, T + N)
