"""Adding a package is one place: its folder under packages/.

``.ci/sync_packages.py`` writes each package's tox env, its ``GRADSTACK_<NAME>`` variable and its
constraints line from the folder list; these tests fail while the files are out of date, and
check every folder's env, variable, constraints line and README row independently of it.
"""

import configparser
import importlib.util
import re
import sys
from pathlib import Path

import pytest

# Repository checks, not a student's work: they earn no points when a module is graded.
pytestmark = pytest.mark.points(0)

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = sorted(p.parent.name for p in (ROOT / "packages").glob("*/pyproject.toml"))


def _sync_module():
    spec = importlib.util.spec_from_file_location("sync_packages", ROOT / ".ci/sync_packages.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


SYNC = _sync_module()
PACKAGES = {p.folder: p for p in SYNC.packages()}
TOX = configparser.ConfigParser(interpolation=None)
TOX.read(ROOT / "tox.ini")


def _lines(value: str) -> list[str]:
    """A multi-line ini value without its comment lines."""
    return [line.strip() for line in value.splitlines() if line.strip() and line[0] != "#"]


def test_the_generated_blocks_are_up_to_date():
    for name, text in SYNC.generated().items():
        assert (ROOT / name).read_text() == text, f"run python .ci/sync_packages.py ({name})"


def test_every_folder_is_a_package():
    assert sorted(PACKAGES) == FOLDERS
    assert len(FOLDERS) >= 12


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_folder_has_its_env_variable_constraint_and_readme_row(folder):
    package = PACKAGES[folder]
    env_list = [line for line in _lines(TOX["tox"]["env_list"]) if not line.startswith("#")]
    assert folder in env_list
    set_env = dict(
        line.split(" = ", 1) for line in _lines(TOX["testenv"]["set_env"]) if " = " in line
    )
    default = f"{{env:{package.variable}:{{tox_root}}/packages/{folder}}}"
    assert set_env[package.variable] == default
    assert set_env[package.path_variable] == default
    constraints = (ROOT / "constraints.txt").read_text().splitlines()
    assert f"-e {package.distribution}@file://${{{package.path_variable}}}" in constraints
    readme = (ROOT / "README.md").read_text()
    assert re.search(
        rf"^\| [^|]* \| `packages/{folder}` \| {package.distribution} \|", readme, re.M
    )


def test_a_variable_tox_would_mask_reads_an_alias():
    tokenization = PACKAGES["10_tokenization"]
    assert tokenization.variable == "GRADSTACK_TOKENIZATION"  # what a swap sets
    assert tokenization.path_variable == "GRADSTACK_MODULE_10"  # what constraints.txt reads
    assert PACKAGES["05_autograd"].path_variable == "GRADSTACK_AUTOGRAD"


def test_a_new_folder_is_picked_up(tmp_path):
    for name in ("tox.ini", "constraints.txt"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    for folder, name in (("01_tensor", "tensor"), ("07_pooling", "pooling")):
        package = tmp_path / "packages" / folder
        (package / "src" / "gradstack" / name).mkdir(parents=True)
        (package / "src" / "gradstack" / name / "__init__.py").write_text("")
        (package / "pyproject.toml").write_text(f'[project]\nname = "gradstack-{name}"\n')
    files = SYNC.generated(tmp_path)
    assert "    07_pooling\n" in files["tox.ini"]
    assert (
        "    GRADSTACK_POOLING = {env:GRADSTACK_POOLING:{tox_root}/packages/07_pooling}\n"
        in (files["tox.ini"])
    )
    assert "-e gradstack-pooling@file://${GRADSTACK_POOLING}\n" in files["constraints.txt"]
    assert "13_transformer" not in files["tox.ini"].split("# END generated")[0]
