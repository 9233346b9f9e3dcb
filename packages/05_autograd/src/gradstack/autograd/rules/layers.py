"""Gradient rules for the ops of gradstack.layers (being written)."""
