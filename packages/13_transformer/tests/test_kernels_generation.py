"""The decoding kernel (kernels/decode.py) equals the module path it replaces.

With kernels off, ``generate``'s cached decoder runs the modules students write
(``GPT.hidden_states(tokens, caches)`` -> ``MultiHeadAttention.forward(cache=)``); with
kernels on, the array-level step. Both must give the same tokens, greedy and sampled
with the same seed, and the same logits and caches at every step.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.attention import KVCache
from gradstack.tensor import kernels_enabled, manual_seed, no_grad, use_references
from gradstack.transformer import GPT
from gradstack.transformer.generation import CachedDecoder
from gradstack.transformer.kernels.decode import ArrayDecoder, folding_pays


@pytest.fixture(autouse=True)
def kernels_on() -> None:
    """These tests compare the kernel with the reference: both must be able to run."""
    if not kernels_enabled():
        pytest.skip("GRADSTACK_KERNELS=0 for this run: the kernel is switched off")


def make_model(max_seq_len: int = 16) -> GPT:
    """A small GPT with sharper distributions than the 0.02 init, so tokens vary."""
    manual_seed(0)
    model = GPT(vocab_size=20, embed_dim=16, num_layers=2, num_heads=4, max_seq_len=max_seq_len)
    rng = np.random.default_rng(0)
    for parameter in model.parameters():
        parameter.data += rng.standard_normal(parameter.shape).astype(np.float32) * 0.3
    return model


def test_the_cached_decoder_picks_the_kernel_only_when_kernels_are_on():
    model = make_model()
    with_kernel = CachedDecoder(model, batch_size=1)
    assert with_kernel.step.__self__.__class__ is ArrayDecoder
    with use_references():
        reference = CachedDecoder(model, batch_size=1)
    assert reference.step == reference.module_step


def generate_both(model: GPT, prompt: np.ndarray, count: int, seed: int, **options):
    """Tokens from the kernel and from the module path, each after manual_seed(seed)."""
    manual_seed(seed)
    ours = model.generate(prompt, count, **options).data
    with use_references():
        manual_seed(seed)
        theirs = model.generate(prompt, count, **options).data
    return ours, theirs


@pytest.mark.parametrize("batch", [1, 3])
def test_greedy_tokens_are_the_same(batch):
    model = make_model(max_seq_len=16)
    prompt = np.random.default_rng(1).integers(0, 20, size=(batch, 4))
    ours, theirs = generate_both(model, prompt, 12, seed=0, top_k=1)
    np.testing.assert_array_equal(ours, theirs)
    assert len(set(ours[0, 4:].tolist())) > 1  # a real sequence, not one token repeated


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("options", [{"temperature": 1.0}, {"temperature": 0.8, "top_k": 5}])
def test_sampled_tokens_are_the_same_with_the_same_seed(batch, options):
    model = make_model(max_seq_len=16)
    prompt = np.random.default_rng(2).integers(0, 20, size=(batch, 3))
    ours, theirs = generate_both(model, prompt, 13, seed=4, **options)
    np.testing.assert_array_equal(ours, theirs)


def test_past_max_seq_len_the_refills_agree():
    model = make_model(max_seq_len=8)
    prompt = np.random.default_rng(3).integers(0, 20, size=(2, 5))
    ours, theirs = generate_both(model, prompt, 20, seed=6, temperature=0.9)
    np.testing.assert_array_equal(ours, theirs)


def test_logits_and_caches_agree_at_every_step_in_float64():
    """A prefill of several positions, then one at a time: the kernel's logits and cached
    keys and values equal the module path's (float64, to 1e-10)."""
    model = make_model(max_seq_len=8)
    model.double()
    ours = CachedDecoder(model, batch_size=3)
    with use_references():
        theirs = CachedDecoder(model, batch_size=3)
    sequence = np.random.default_rng(5).integers(0, 20, size=(3, 10))
    with no_grad():
        pairs = [(ours.prefill(sequence[:, :3]), theirs.prefill(sequence[:, :3]))]
        for length in range(4, 11):  # past 8 the caches refill
            pairs.append(
                (ours.next_logits(sequence[:, :length]), theirs.next_logits(sequence[:, :length]))
            )
    for kernel_logits, module_logits in pairs:
        np.testing.assert_allclose(kernel_logits, module_logits, rtol=1e-10, atol=1e-12)
    for a, b in zip(ours.caches, theirs.caches):
        assert a.length == b.length == 5  # refilled with 4 at length 9, then one more step
        np.testing.assert_allclose(a.keys[:, :, :5], b.keys[:, :, :5], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a.values[:, :, :5], b.values[:, :, :5], rtol=1e-10, atol=1e-12)


def test_the_kernel_equals_a_full_recomputation():
    """Independent of the module cache path: each step's logits equal the model's forward
    over the whole sequence so far, through the modules (references: no fold)."""
    model = make_model(max_seq_len=8)
    model.double()
    decoder = CachedDecoder(model, batch_size=2)
    sequence = np.random.default_rng(6).integers(0, 20, size=(2, 8))
    caches = [KVCache(2, 4, 8, 4, dtype=np.float64) for _ in model.blocks]
    assert ArrayDecoder(model).fold  # gains and shifts folded into the maps: checked here
    assert not ArrayDecoder(model, contiguous=False, fold=False).fold
    linear1 = model.blocks[0].mlp.linear1.weight.data
    unfolded = ArrayDecoder(model, contiguous=False, fold=False).maps[0].up.weight_t
    folded = ArrayDecoder(model, contiguous=False).maps[0].up.weight_t
    assert np.shares_memory(unfolded, linear1)  # a view: nothing copied per forward
    assert not np.shares_memory(folded, linear1)  # the gain-scaled copy the fold makes

    def recomputed(length: int) -> np.ndarray:
        with use_references():
            return model(sequence[:, :length]).data[:, -1]

    with no_grad():
        logits = ArrayDecoder(model).step(sequence[:, :2], caches)
        np.testing.assert_allclose(logits, recomputed(2), rtol=1e-10)
        for fold in (True, False):  # the whole-sequence forward, folded or not
            decoder_of_all = ArrayDecoder(model, contiguous=False, fold=fold)
            whole = decoder_of_all.logits(sequence[:, :5])[:, -1]
            np.testing.assert_allclose(whole, recomputed(5), rtol=1e-10, atol=1e-12)
        decoder.prefill(sequence[:, :2])
        for length in range(3, 9):
            logits = decoder.next_logits(sequence[:, :length])
            np.testing.assert_allclose(logits, recomputed(length), rtol=1e-10, atol=1e-12)


def test_a_whole_sequence_forward_folds_only_when_the_rows_outnumber_twice_the_width():
    assert folding_pays(128, 2048) and folding_pays(64, 128)  # 16 and 2 rows per unit of width
    assert not folding_pays(256, 128)  # width 256, one sequence of 128: the copies cost more
