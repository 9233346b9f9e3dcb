"""Version of gradstack-layers, single-sourced for hatchling."""

__version__ = "0.1.0"
