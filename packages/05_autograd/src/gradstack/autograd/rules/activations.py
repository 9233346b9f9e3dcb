"""Gradient rules for the ops of gradstack.activations (being written)."""
