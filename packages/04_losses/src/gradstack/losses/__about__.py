"""Version of gradstack-losses, single-sourced for hatchling."""

__version__ = "0.1.0"
