"""Gradient rules for the ops of gradstack.losses (being written)."""
