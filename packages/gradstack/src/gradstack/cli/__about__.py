"""Version of gradstack (the command), single-sourced for hatchling."""

__version__ = "0.1.0"
