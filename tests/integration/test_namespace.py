"""Guards the PEP 420 namespace `gradstack` that every package shares.

A single `gradstack/__init__.py`, shipped by any distribution or left in any package's
src folder, turns the namespace into a regular package: the first one found on sys.path
then hides every other module (`import gradstack.layers` fails once `gradstack.tensor`
ships an `__init__.py`). These tests look at what is installed and at the checkout.
"""

import importlib.metadata
import importlib.util
import json
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import pytest

import gradstack

# Repository checks, not a student's work: they earn no points when a module is graded.
pytestmark = pytest.mark.points(0)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_FOLDERS = sorted(p.parent for p in (ROOT / "packages").glob("*/pyproject.toml"))
NAMESPACE_INIT = PurePosixPath("gradstack/__init__.py")


def _gradstack_distributions():
    """The installed gradstack distributions, by normalized name (one per name)."""
    found = {}
    for dist in importlib.metadata.distributions():
        name = re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
        if name == "gradstack" or name.startswith("gradstack-"):
            found.setdefault(name, dist)
    return found


def _dist_name(folder):
    """packages/12_attention -> gradstack-attention; packages/course -> gradstack-course;
    packages/gradstack -> gradstack."""
    if folder.name == "gradstack":
        return "gradstack"
    return "gradstack-" + folder.name.split("_", 1)[-1]


def _import_name(dist_name):
    """`gradstack-attention` -> `gradstack.attention`; the CLI distribution -> `gradstack.cli`."""
    if dist_name == "gradstack":
        return "gradstack.cli"
    return "gradstack." + dist_name.split("-", 1)[1]


def _source_dir(dist):
    """The folder an editable or local install was made from, or None."""
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    url = urlsplit(json.loads(text).get("url", ""))
    return Path(unquote(url.path)) if url.scheme == "file" else None


def test_every_package_of_the_checkout_is_installed():
    installed = set(_gradstack_distributions())
    expected = {_dist_name(folder) for folder in PACKAGE_FOLDERS}
    assert expected, "no package folders under packages/"
    assert installed == expected


def test_no_distribution_ships_a_namespace_init():
    offenders = {}
    for name, dist in _gradstack_distributions().items():
        files = [PurePosixPath(str(f)) for f in dist.files or ()]
        shipped = [str(f) for f in files if f == NAMESPACE_INIT]
        source = _source_dir(dist)
        if source is not None and (source / "src" / "gradstack" / "__init__.py").exists():
            shipped.append(str(source / "src" / "gradstack" / "__init__.py"))
        if shipped:
            offenders[name] = shipped
    assert offenders == {}


def test_no_package_folder_has_a_namespace_init():
    inits = [folder / "src" / "gradstack" / "__init__.py" for folder in PACKAGE_FOLDERS]
    offenders = [str(init.relative_to(ROOT)) for init in inits if init.exists()]
    assert offenders == []


def test_gradstack_is_a_namespace_package():
    assert gradstack.__file__ is None
    assert type(gradstack.__path__).__name__ == "_NamespacePath"
    assert gradstack.__spec__.origin in (None, "namespace")


def test_namespace_path_has_one_entry_per_installed_package_dir():
    # Editable installs put one src/gradstack folder per package on the path; wheels
    # installed into site-packages share a single gradstack folder there.
    providers = {}
    for name in _gradstack_distributions():
        spec = importlib.util.find_spec(_import_name(name))
        assert spec is not None, f"{name} is installed but {_import_name(name)} is not importable"
        assert spec.origin is not None and spec.origin.endswith("__init__.py"), spec
        providers[name] = Path(spec.origin).resolve().parent.parent
    entries = [Path(p).resolve() for p in gradstack.__path__]
    assert len(entries) == len(set(entries))
    assert set(entries) == set(providers.values())
    for folder in entries:
        assert not (folder / "__init__.py").exists(), folder
