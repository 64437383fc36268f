"""Synthesise the CDK app once per test session, offline.

Two Chalice projects are synthesised:

* ``contract``: tests/infra/contract_app/app.py, in every stage. It
  registers every handler the definitions name, the way app.py must, so
  it proves every binding.
* ``project``: the repository's own app.py and chalicelib, as they are now,
  for the dev stage only (what differs between stages is the
  infrastructure's, which the contract app covers in every stage).

Each runs in a subprocess of its own (chalice imports the project as the
module ``app``, so two projects cannot share one interpreter), both at once.
The copies leave out requirements.txt: the template does not depend on the
third-party wheels bundled into the zip, and without them chalice needs no
network. These tests need .venv-infra (`make test-infra`); under .venv,
which has no CDK, they are not collected.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CONTRACT_APP = Path(__file__).resolve().parent / "contract_app" / "app.py"

if importlib.util.find_spec("aws_cdk") is None:
    collect_ignore_glob = ["test_*.py"]


@dataclass
class Synthesis:
    """One synthesised project: its templates by stage and its assembly."""

    name: str
    assembly: Path
    templates: dict[str, dict[str, Any]]
    template_paths: dict[str, Path]

    def resources(self, stage: str, type_: str) -> dict[str, dict[str, Any]]:
        """The stage's resources of one CloudFormation type, by logical id."""
        return {
            logical_id: resource
            for logical_id, resource in self.templates[stage]["Resources"].items()
            if resource["Type"] == type_
        }


def _project_copy(root: Path, app_py: Path, with_chalicelib: bool) -> Path:
    root.mkdir(parents=True)
    shutil.copy(app_py, root / "app.py")
    (root / ".chalice").mkdir()
    shutil.copy(REPO / ".chalice" / "config.json", root / ".chalice" / "config.json")
    if with_chalicelib:
        shutil.copytree(
            REPO / "chalicelib", root / "chalicelib", ignore=shutil.ignore_patterns("__pycache__")
        )
    return root


def _start(project: Path, outdir: Path, stage: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # Synthesis must not depend on whoever runs it having AWS access.
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "CDK_DEFAULT_ACCOUNT",
    ):
        env.pop(name, None)
    command = [
        sys.executable,
        "-m",
        "infrastructure.synth",
        "--stage",
        stage,
        "--source-dir",
        str(project),
        "--outdir",
        str(outdir),
    ]
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture(scope="session")
def syntheses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesis]:
    base = tmp_path_factory.mktemp("infra")
    projects = {"contract": _project_copy(base / "contract" / "src", CONTRACT_APP, False)}
    if (REPO / "app.py").exists():
        projects["project"] = _project_copy(base / "project" / "src", REPO / "app.py", True)
    running = {
        name: (
            _start(src, src.parent / "cdk.out", "all" if name == "contract" else "dev"),
            src.parent / "cdk.out",
        )
        for name, src in projects.items()
    }
    found = {}
    for name, (process, outdir) in running.items():
        stdout, stderr = process.communicate(timeout=600)
        if process.returncode != 0:
            pytest.fail(f"synth of the {name} app failed:\n{stderr[-6000:]}", pytrace=False)
        manifest = json.loads((outdir / "manifest.json").read_text())
        templates, paths = {}, {}
        for artifact_id, artifact in manifest["artifacts"].items():
            if artifact["type"] == "aws:cloudformation:stack":
                path = outdir / artifact["properties"]["templateFile"]
                templates[artifact_id] = json.loads(path.read_text())
                paths[artifact_id] = path
        # The last line synth printed is a template path (what `make synth` promises).
        assert Path(stdout.strip().splitlines()[-1]) in {p.resolve() for p in paths.values()}
        found[name] = Synthesis(name, outdir, templates, paths)
    return found


@pytest.fixture(scope="session")
def contract(syntheses: dict[str, Synthesis]) -> Synthesis:
    return syntheses["contract"]


@pytest.fixture(scope="session", params=["contract", "project"])
def synthesis(request: pytest.FixtureRequest, syntheses: dict[str, Synthesis]) -> Synthesis:
    """Each synthesised app in turn (the project's only once app.py exists)."""
    if request.param not in syntheses:
        pytest.skip("app.py does not exist yet")
    return syntheses[request.param]
