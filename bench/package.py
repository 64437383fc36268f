"""The Lambda package: ``chalice package`` for the prod stage with the
bytecode step the deployment applies (infrastructure/bytecode.py), then the
size of deployment.zip (target: under 5 MB zipped, 1 MB = 10^6 bytes) and what
takes the room. boto3 and botocore must not be in it: the Lambda runtime
provides them (requirements.txt leaves them out).

Prints a table, then one JSON object as the very last line.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infrastructure.bytecode import (  # noqa: E402  (after the path above)
    add_bytecode,
    ours_without_bytecode,
    package_runtime,
)

TARGET_MB = 5.0
MUST_NOT_SHIP = ("boto3", "botocore", "s3transfer", "moto", "local", "tests", "bench")


def top_level(name: str) -> str:
    first = name.split("/", 1)[0]
    if first.endswith((".dist-info", ".egg-info")):
        return "(package metadata)"
    return first


def build_package(project: Path, out: Path, stage: str = "prod") -> Path:
    """``chalice package`` of ``project`` into ``out``, then the same bytecode
    step as the deployment (infrastructure/stack.py); the deployment.zip."""
    subprocess.run(
        [str(Path(sys.executable).parent / "chalice"), "package", "--stage", stage, str(out)],
        cwd=project,
        env={**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_REGION", "eu-central-1")},
        check=True,
        capture_output=True,
    )
    archive = out / "deployment.zip"
    add_bytecode(archive, package_runtime(out / "sam.json"))
    return archive


def main() -> int:
    with tempfile.TemporaryDirectory() as out:
        archive = build_package(ROOT, Path(out))
        size = archive.stat().st_size
        with zipfile.ZipFile(archive) as z:
            entries = z.infolist()
    zipped: collections.Counter[str] = collections.Counter()
    unzipped: collections.Counter[str] = collections.Counter()
    for entry in entries:
        zipped[top_level(entry.filename)] += entry.compress_size
        unzipped[top_level(entry.filename)] += entry.file_size
    shipped_forbidden = sorted(set(zipped) & set(MUST_NOT_SHIP))
    names = {entry.filename for entry in entries}
    # Every module of ours must ship its bytecode (a cold start would
    # otherwise compile it, on every cold start).
    uncompiled = ours_without_bytecode(names)
    compiled = sum(1 for n in names if n.endswith(".pyc"))

    print(f"{'in deployment.zip':32}{'zipped MB':>11}{'unzipped MB':>13}")
    for name, n in zipped.most_common(12):
        print(f"{name:32}{n / 1e6:>11.2f}{unzipped[name] / 1e6:>13.2f}")
    rest = sum(n for name, n in zipped.most_common()[12:])
    print(f"{'(the rest)':32}{rest / 1e6:>11.2f}")
    package_mb = round(size / 1e6, 2)
    print(f"deployment.zip: {package_mb} MB (target < {TARGET_MB} MB)")
    print(f"modules shipped as bytecode: {compiled}")
    if shipped_forbidden:
        print(f"MUST NOT SHIP, but does: {shipped_forbidden}")
    if uncompiled:
        print(f"shipped WITHOUT bytecode: {uncompiled}")
    print(
        json.dumps(
            {
                "package_mb": package_mb,
                "target_mb": TARGET_MB,
                "unzipped_mb": round(sum(unzipped.values()) / 1e6, 2),
                "files": len(entries),
                "compiled_modules": compiled,
                "largest": {name: round(n / 1e6, 2) for name, n in zipped.most_common(5)},
                "shipped_but_must_not": shipped_forbidden,
                "ours_without_bytecode": uncompiled,
            }
        )
    )
    return 1 if shipped_forbidden or uncompiled else 0


if __name__ == "__main__":
    sys.exit(main())
