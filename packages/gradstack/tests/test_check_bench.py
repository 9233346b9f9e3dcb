"""``gradstack check`` and ``gradstack bench``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from gradstack.cli.gradient_report import CHECKED_MODULES


def test_check_passes_for_every_module(cli: Any, tmp_path: Path) -> None:
    result = cli.run("check", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"^(\d+)/(\d+) checks pass$", result.stdout, re.MULTILINE)
    assert match and match.group(1) == match.group(2) and int(match.group(2)) > 50
    for module in ("tensor", "activations", "layers", "losses", "autograd", "optim",
                   "tokenization", "embeddings", "attention", "transformer"):  # fmt: skip
        assert re.search(rf"^{module}\s+\S.*✅", result.stdout, re.MULTILINE), module
    assert "❌" not in result.stdout and "not installed" not in result.stdout


def test_check_without_torch(cli: Any, tmp_path: Path) -> None:
    result = cli.run("check", "--no-torch", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "matches PyTorch" not in result.stdout and "step = PyTorch" not in result.stdout
    for component in ("retain_graph", "20,000-op chain", "step = formula", "BPE round trip"):
        assert re.search(rf"^\w+\s+{component}\s.*✅", result.stdout, re.MULTILINE), component


def test_bench_reports_milliseconds_and_tokens_per_second(cli: Any, tmp_path: Path) -> None:
    args = ("bench", "--layers", "1", "--embed-dim", "16", "--heads", "2", "--context", "8",
            "--batch-size", "4", "--steps", "3", "--warmup", "1")  # fmt: skip
    result = cli.run(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    match = re.search(r"median ([\d.]+) ms/step over 3 steps.*?([\d,]+) tokens/s", result.stdout)
    assert match and float(match.group(1)) > 0
    assert int(match.group(2).replace(",", "")) > 0


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_modules_not_installed_are_listed_not_failed(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['gradstack.attention'] = None  # find_spec now reports it missing\n"
        "sys.modules['gradstack.transformer'] = None\n"
        "from gradstack.cli.main import main\n"
        "sys.exit(main(['check', '--no-torch']))\n"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^attention\s+\(not installed\)", result.stdout, re.MULTILINE)
    assert re.search(r"^transformer\s+\(not installed\)", result.stdout, re.MULTILINE)
    match = re.search(r"^(\d+)/(\d+) checks pass$", result.stdout, re.MULTILINE)
    assert match and match.group(1) == match.group(2)


def test_a_wrong_gradient_rule_fails_the_check(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from gradstack.autograd import RULES\n"
        "RULES['exp'] = lambda g, node: (g * 2.0 * node.inputs[0].data,)  # a wrong rule\n"
        "from gradstack.cli.main import main\n"
        "sys.exit(main(['check', '--no-torch']))\n"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"^tensor\s+elementwise\s+❌.*exp-batch.*analytic", result.stdout, re.M)
    match = re.search(r"^(\d+)/(\d+) checks pass$", result.stdout, re.MULTILINE)
    assert match and int(match.group(1)) < int(match.group(2))


def test_every_module_folder_has_a_check_table_and_its_rows() -> None:
    packages = Path(__file__).resolve().parents[2]
    folders = sorted(packages.glob("[0-9][0-9]_*"))
    assert [folder.name.split("_", 1)[1] for folder in folders] == list(CHECKED_MODULES)
    for folder in folders:
        source = folder / "src" / "gradstack" / folder.name.split("_", 1)[1]
        tables = [source / "gradcheck_cases.py", source / "value_cases.py"]
        assert any(table.is_file() for table in tables), folder.name
