"""Guards the packaging contract of every folder under packages/ (ARCHITECTURE.md §1).

Each package is a hatchling distribution with a src layout whose version is single-sourced
in src/gradstack/<name>/__about__.py, declares only numpy and the gradstack siblings it
imports (each as `>=0.1,<0.2`), and carries no pytest settings of its own: those live
only in the root pyproject.toml.
"""

import ast
import importlib.metadata
import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

# Repository checks, not a student's work: they earn no points when a module is graded.
pytestmark = pytest.mark.points(0)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = sorted(p.parent for p in (ROOT / "packages").glob("*/pyproject.toml"))
SIBLING_RANGE = SpecifierSet(">=0.1,<0.2")
# Well-kept libraries the `gradstack` command (packages/gradstack) may use besides numpy,
# and the optional extras each package may offer (`pip install "./packages/gradstack[plot]"`):
# pictures only, never needed to train. The modules 01-13 declare no other library; the
# course tooling (packages/course) declares nothing at all, not even numpy: it runs on a
# grader's machine with the standard library.
CLI_ALLOWED = {"tqdm", "rich"}
EXTRAS_ALLOWED = {
    "gradstack": {"matplotlib"},
    "05_autograd": {"graphviz"},
    "13_transformer": {"matplotlib"},
}


def import_name(folder):
    """packages/12_attention -> attention; packages/course -> course; packages/gradstack
    (the command) -> cli."""
    return "cli" if folder.name == "gradstack" else folder.name.split("_", 1)[-1]


def dist_name(folder):
    return "gradstack" if folder.name == "gradstack" else "gradstack-" + import_name(folder)


MODULE_DISTS = {dist_name(f) for f in FOLDERS if f.name not in ("gradstack", "course")}


def load(folder):
    with open(folder / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def about_version(root, name):
    """The `__version__` string assigned in <root>/src/gradstack/<name>/__about__.py."""
    about = root / "src" / "gradstack" / name / "__about__.py"
    for node in ast.parse(about.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{about} assigns no __version__")


def installed_from(dist):
    """The folder a local (editable) install was made from, or None for an index/wheel install."""
    text = dist.read_text("direct_url.json")
    url = urlsplit(json.loads(text)["url"]) if text else None
    return Path(unquote(url.path)) if url is not None and url.scheme == "file" else None


per_package = pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])


@per_package
def test_name_matches_folder(folder):
    assert load(folder)["project"]["name"] == dist_name(folder)


@per_package
def test_builds_with_hatchling(folder):
    build = load(folder)["build-system"]
    assert build["build-backend"] == "hatchling.build"
    assert "hatchling" in [Requirement(r).name for r in build["requires"]]


@per_package
def test_declares_only_numpy_and_siblings(folder):
    project = load(folder)["project"]
    if folder.name == "course":
        assert project.get("dependencies", []) == []
        return
    allowed = {"numpy"} | (CLI_ALLOWED if folder.name == "gradstack" else set())
    problems = []
    for line in project.get("dependencies", []):
        req = Requirement(line)
        if req.url or req.marker or req.extras:
            problems.append(f"{line}: no URLs, markers or extras")
        elif req.name in MODULE_DISTS:
            if req.name == dist_name(folder):
                problems.append(f"{line}: depends on itself")
            elif req.specifier != SIBLING_RANGE:
                problems.append(f"{line}: siblings are declared as {req.name}>=0.1,<0.2")
        elif req.name not in allowed:
            problems.append(f"{line}: not numpy or a gradstack module")
    extras_allowed = EXTRAS_ALLOWED.get(folder.name, set())
    for extra, lines in project.get("optional-dependencies", {}).items():
        for line in lines:
            if Requirement(line).name not in extras_allowed:
                problems.append(f"[{extra}] {line}: not an allowed optional library")
    assert problems == []


@per_package
def test_has_no_pytest_settings(folder):
    tool = load(folder).get("tool", {})
    assert [key for key in tool if key.startswith("pytest")] == []
    assert not (folder / "pytest.ini").exists()


@per_package
def test_version_is_single_sourced_in_about(folder):
    data = load(folder)
    assert "version" not in data["project"]
    assert "version" in data["project"].get("dynamic", [])
    expected = f"src/gradstack/{import_name(folder)}/__about__.py"
    assert data["tool"]["hatch"]["version"]["path"] == expected


@per_package
def test_installed_version_is_the_about_version(folder):
    dist = importlib.metadata.distribution(dist_name(folder))
    # A module swapped for another copy (GRADSTACK_<NAME>=/path) is checked against that copy.
    source = installed_from(dist) or folder
    assert dist.version == about_version(source, import_name(folder))


@pytest.mark.torch
def test_torch_env_has_the_pinned_cpu_build():
    """`tox -e torch` compares against torch 2.13.0, the CPU wheel (never a CUDA build)."""
    torch = pytest.importorskip("torch")
    assert torch.__version__.split("+")[0] == "2.13.0"
    assert torch.version.cuda is None
    assert torch.ones(3).add(1).sum().item() == 6.0
