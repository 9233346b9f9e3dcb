"""draw_attention_maps with matplotlib installed: a PNG with layers × heads heat maps."""

from __future__ import annotations

import numpy as np
import pytest

from gradstack.tensor import manual_seed
from gradstack.transformer import GPT, attention_maps, draw_attention_maps, token_labels

pytest.importorskip("matplotlib", reason="the integration env installs the plot extra")


@pytest.mark.parametrize(("layers", "heads"), [(2, 4), (3, 2)])
def test_picture_has_one_heat_map_per_layer_and_head(tmp_path, layers, heads):
    manual_seed(0)
    model = GPT(vocab_size=20, embed_dim=16, num_layers=layers, num_heads=heads)
    tokens = [1, 2, 3, 4, 5]
    maps = attention_maps(model, tokens)
    path = tmp_path / "attention.png"
    figure = draw_attention_maps(maps, path, token_labels(list("ab cd")), title="seed GPT")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    panels = [ax for ax in figure.axes if ax.images]
    assert len(panels) == layers * heads
    assert [ax.get_title() for ax in panels[: heads + 1]] == [
        *(f"layer 0 · head {h}" for h in range(heads)),
        "layer 1 · head 0",
    ]
    first = panels[0].images[0].get_array()
    np.testing.assert_array_equal(np.asarray(first), maps[0, 0])
    assert [t.get_text() for t in panels[0].get_xticklabels()] == ["a", "b", "␣", "c", "d"]


def test_bad_maps_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"draw_attention_maps: maps must be \(layers, heads"):
        draw_attention_maps(np.zeros((2, 3, 3)), tmp_path / "a.png")
    with pytest.raises(ValueError, match="draw_attention_maps: 2 labels for 3 tokens"):
        draw_attention_maps(np.zeros((1, 1, 3, 3)), tmp_path / "a.png", ["a", "b"])
