"""Version of gradstack-embeddings, single-sourced for hatchling."""

__version__ = "0.1.0"
