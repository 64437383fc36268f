"""The layering contracts (pyproject.toml, import-linter) hold, and each one
fails on the kind of import it exists to stop.

Each case copies chalicelib/ into a temporary folder, adds one wrong import
to one module and runs lint-imports there: the contract named must be
reported broken, and the untouched copy must pass. So a contract that was
mistyped, or that a later edit made vacuous, fails here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# (contract's name as reported, module to spoil, the line added to it)
WRONG_IMPORTS = [
    ("The domain imports no AWS", "chalicelib/domain/order.py", "import boto3"),
    ("The domain imports no AWS", "chalicelib/domain/money.py", "import chalice"),
    ("The domain imports no AWS", "chalicelib/domain/cart.py", "from chalicelib.store import keys"),
    (
        "Handlers -> use cases -> domain",
        "chalicelib/domain/catalog.py",
        "from chalicelib.services import catalog",
    ),
    (
        "Handlers -> use cases -> domain",
        "chalicelib/services/catalog.py",
        "from chalicelib.api import presenters",
    ),
    (
        "The store implements the ports and imports no use case",
        "chalicelib/store/catalog.py",
        "from chalicelib.services import placement",
    ),
    (
        "Only the entry points",
        "chalicelib/services/catalog.py",
        "from chalicelib import bootstrap",
    ),
    ("Only the entry points", "chalicelib/api/admin.py", "from chalicelib import bootstrap"),
    (
        "No import cycle between the packages of chalicelib",
        "chalicelib/domain/money.py",
        "from chalicelib.domain import order",
    ),
]


def _copy_project(tmp_path: Path) -> Path:
    work = tmp_path / "project"
    shutil.copytree(
        ROOT / "chalicelib", work / "chalicelib", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "local", work / "local", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    return work


def _lint(work: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PYTHONPATH": str(work), "PATH": "/usr/bin:/bin"},
    )


def test_the_project_keeps_every_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


@pytest.mark.parametrize(("contract", "module", "line"), WRONG_IMPORTS)
def test_a_wrong_import_breaks_its_contract(
    tmp_path: Path, contract: str, module: str, line: str
) -> None:
    work = _copy_project(tmp_path)
    spoiled = work / module
    spoiled.write_text(spoiled.read_text() + f"\n{line}  # deliberately wrong\n")

    result = _lint(work)

    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in " ".join(broken.split()), result.stdout
    # The report names the module the import was added to.
    assert Path(module).stem in broken, result.stdout
