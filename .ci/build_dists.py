"""Build the wheel and sdist of every package under packages/ into dist/ with `hatch build`.

Run by `tox -e wheels`. Afterwards one module installs by name with what it declares:
`pip install --find-links dist gradstack-attention`.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"


def main() -> int:
    folders = sorted(p.parent for p in (ROOT / "packages").glob("*/pyproject.toml"))
    if not folders:
        print("build_dists: no packages/*/pyproject.toml found", file=sys.stderr)
        return 1
    DIST.mkdir(exist_ok=True)
    for old in DIST.glob("gradstack*"):
        old.unlink()
    failed = []
    for folder in folders:
        print(f"--- hatch build packages/{folder.name}", flush=True)
        if subprocess.run(["hatch", "build", str(DIST)], cwd=folder).returncode != 0:
            failed.append(folder.name)
    built = sorted(p.name for p in DIST.glob("gradstack*"))
    print(f"--- {len(built)} files in {DIST}:", *built, sep="\n    ")
    if failed:
        print(f"build_dists: hatch build failed for {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
