"""Commands from other distributions: the entry-point group ``gradstack.commands``."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from gradstack.cli import main as cli


class Entry:
    """A stand-in for an ``importlib.metadata.EntryPoint``."""

    def __init__(self, name: str, load: Any) -> None:
        self.name, self._load = name, load

    def load(self) -> Any:
        return self._load()


def add_hello(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("hello", help="say hello")
    parser.set_defaults(runner=lambda args: 7)
    return parser


def broken() -> Any:
    raise ImportError("No module named 'gradstack.hello'")


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three entries: one that works, one that fails to load, one that takes 'train'."""
    entries = [Entry("hello", lambda: add_hello), Entry("broken", broken),
               Entry("train", lambda: add_hello)]  # fmt: skip
    monkeypatch.setattr(
        cli, "entry_points", lambda group: entries if group == cli.PLUGIN_GROUP else []
    )


def test_a_plugin_command_is_added_and_runs(plugins: None):
    assert "hello" in cli.build_parser().commands
    assert cli.main(["hello"]) == 7


def test_a_broken_plugin_is_left_out_with_one_warning(plugins: None, capsys: pytest.CaptureFixture):
    commands = cli.build_parser().commands
    assert "broken" not in commands
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "gradstack: warning: cannot load command 'broken': No module named 'gradstack.hello'"
    ]


def test_a_plugin_cannot_replace_a_built_in_command(plugins: None):
    train = cli.build_parser().commands["train"]
    assert train.get_default("runner") is not None
    assert "--resume" in train.format_help()  # still gradstack's own train
