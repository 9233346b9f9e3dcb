"""No distribution imports another distribution's private modules.

Every gradstack package is versioned on its own (``>=0.1,<0.2``), so an import of another
package's private helper breaks silently when that helper is renamed. A package's surface is
its ``__init__`` (the names in ``__all__``); ``PUBLIC_SUBMODULES`` lists the one exception
(the command's reference training step, which no package imports but readers and bench/
do), and each package README names its surface under "Public surface". The scan reads
``packages/*/src`` with ``ast`` (imports inside functions included), so nothing has to be
installed.
"""

import ast
import re
from pathlib import Path

import pytest

# Repository checks, not a student's work: they earn no points when a module is graded.
pytestmark = pytest.mark.points(0)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_FOLDERS = sorted(p.parent for p in (ROOT / "packages").glob("*/pyproject.toml"))

# Submodules other distributions may import, besides each package's __init__. Add one here
# and to its package README's "Public surface" section, or export the name from __init__.
PUBLIC_SUBMODULES = {
    "gradstack.cli.training_step": "the reference training step that gradstack train runs",
}


def _top_modules() -> dict[str, Path]:
    """``gradstack.<name>`` -> the package folder whose src holds it (one per distribution)."""
    tops = {}
    for folder in PACKAGE_FOLDERS:
        for sub in (folder / "src" / "gradstack").iterdir():
            if sub.is_dir() and (sub / "__init__.py").is_file():
                tops[f"gradstack.{sub.name}"] = folder
    return tops


TOPS = _top_modules()


def _exported(top: str) -> set[str]:
    """The names in ``__all__`` of a package's ``__init__`` (read with ast, not imported)."""
    init = TOPS[top] / "src" / Path(*top.split(".")) / "__init__.py"
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return set()


def private_imports(source: str, own_top: str) -> list[str]:
    """Each import in ``source`` (of the package ``own_top``) that reaches into another
    distribution past its surface, as ``"line: module name"``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imports = [(node.module, [a.name for a in node.names])]
        elif isinstance(node, ast.Import):
            imports = [(a.name, []) for a in node.names]
        else:
            continue
        for module, names in imports:
            parts = module.split(".")
            top = ".".join(parts[:2])
            if parts[0] != "gradstack" or top not in TOPS or top == own_top:
                continue
            if module == top:
                bad = sorted(set(names) - _exported(top))
            elif module in PUBLIC_SUBMODULES:
                bad = [n for n in names if n.startswith("_")]
            else:
                bad = names or ["(module)"]
            found += [f"{node.lineno}: {module} {name}" for name in bad]
    return found


def test_no_distribution_imports_another_ones_private_modules():
    violations = []
    for top, folder in TOPS.items():
        for path in sorted((folder / "src").rglob("*.py")):
            for hit in private_imports(path.read_text(), top):
                violations.append(f"{path.relative_to(ROOT)}:{hit}")
    assert violations == [], "imports past another package's surface:\n" + "\n".join(violations)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "from gradstack.layers.linear import linear_op",
            ["1: gradstack.layers.linear linear_op"],
        ),
        ("def f():\n    import gradstack.losses.checks", ["2: gradstack.losses.checks (module)"]),
        ("from gradstack.tensor import Tensor, _private", ["1: gradstack.tensor _private"]),
        (
            "from gradstack.cli.training_step import _private",
            ["1: gradstack.cli.training_step _private"],
        ),
        ("from gradstack.cli.training_step import training_step", []),
        ("from gradstack.tensor import Tensor, normalize_dim, sum_rows", []),
        (
            "from gradstack.tensor.matvec_sums import sum_rows",
            ["1: gradstack.tensor.matvec_sums sum_rows"],
        ),
        ("from gradstack.autograd.engine import backward", []),  # its own package
        ("from .kernels import sum_rows\nimport numpy", []),
    ],
)
def test_the_scan_finds_private_imports(source, expected):
    assert private_imports(source, "gradstack.autograd") == expected


def _readme_surface(folder: Path) -> set[str]:
    """The ``gradstack.*`` modules named in a README's "Public surface" section."""
    text = (folder / "README.md").read_text()
    match = re.search(r"^## Public surface\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"{folder.name}/README.md has no '## Public surface' section"
    return set(re.findall(r"`(gradstack(?:\.\w+)+)`", match.group(1)))


@pytest.mark.parametrize("folder", PACKAGE_FOLDERS, ids=lambda f: f.name)
def test_each_readme_lists_its_surface(folder):
    tops = {top for top, f in TOPS.items() if f == folder}
    public = {m for m in PUBLIC_SUBMODULES if ".".join(m.split(".")[:2]) in tops}
    assert _readme_surface(folder) == tops | public


def test_every_public_submodule_exists():
    for module in PUBLIC_SUBMODULES:
        top = ".".join(module.split(".")[:2])
        path = TOPS[top] / "src" / Path(*module.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), module
