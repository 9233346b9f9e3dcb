"""The run folder's lock: exclusive, names its holder, released with the holder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gradstack.cli.errors import UsageError
from gradstack.cli.lock import RunLock, check_not_locked


def test_a_second_lock_on_the_folder_fails_naming_the_holder(tmp_path: Path) -> None:
    with RunLock(tmp_path, "--out run"):
        assert (tmp_path / "lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(UsageError, match=rf"--out run: another .* \(pid {os.getpid()}\)"):
            RunLock(tmp_path, "--out run").acquire()
        with pytest.raises(UsageError, match=rf"pid {os.getpid()}"):
            check_not_locked(tmp_path, "--out run")
    check_not_locked(tmp_path, "--out run")  # released: no error
    with RunLock(tmp_path, "--resume run") as again:
        assert again.path == tmp_path / "lock"


def test_checking_a_folder_without_a_lock_file_creates_nothing(tmp_path: Path) -> None:
    check_not_locked(tmp_path, "--out run")
    assert list(tmp_path.iterdir()) == []
