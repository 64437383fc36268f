"""The package of a function outside the Chalice app (definitions.OWN_FUNCTIONS),
built at synth: its requirements installed for Lambda's platform, then the
packages of ours it runs.

Lambda's python3.13 runs on Amazon Linux 2023, x86_64: pip installs the
wheels built for it (``--platform manylinux2014_x86_64 --only-binary=:all:
--python-version 3.13``), whatever machine synthesises. Generic over the
requirements file: whatever invoice_pdf/requirements.txt adds flows in.

Pillow is left out: pip brings it as fpdf2's dependency, but fpdf2 imports
it only if present and the renderer draws no images; it would be 7 MB of the
package's zip (invoice_pdf/README.md). Removed by its own RECORD, so every
file it installed goes and nothing else.

The installed requirements are cached under build/ by a digest of the
requirements (and the pip options), so a synth installs only when they
change; the packages of ours are copied afresh each time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from infrastructure.definitions import OwnFunction

PLATFORM_OPTIONS = (
    "--platform",
    "manylinux2014_x86_64",
    "--implementation",
    "cp",
    "--python-version",
    "3.13",
    "--only-binary=:all:",
)
#: Distributions pip installs that the package leaves out (normalised names).
LEFT_OUT = ("pillow",)
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "requirements*.txt", "README.md")


def requirement_files(path: Path) -> list[Path]:
    """The requirements file and every file it includes with ``-r``."""
    found = [path]
    for line in path.read_text().splitlines():
        option = line.strip()
        if option.startswith(("-r ", "--requirement ")):
            found.extend(requirement_files(path.parent / option.split(None, 1)[1]))
    return found


def requirements_digest(path: Path) -> str:
    digest = hashlib.sha256(" ".join(PLATFORM_OPTIONS + LEFT_OUT).encode())
    for file in requirement_files(path):
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _leave_out(target: Path, distribution: str) -> None:
    for info in target.glob("*.dist-info"):
        name = info.name.removesuffix(".dist-info").rsplit("-", 1)[0].lower().replace("_", "-")
        if name != distribution:
            continue
        for line in (info / "RECORD").read_text().splitlines():
            relative = line.split(",", 1)[0]
            (target / relative).unlink(missing_ok=True)
        shutil.rmtree(info, ignore_errors=True)
    # Directories the removed files leave empty (PIL/, pillow.libs/).
    for directory in sorted(target.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()


def installed_requirements(function: OwnFunction, source_dir: Path, cache: Path) -> Path:
    """The function's requirements installed for Lambda (cached by digest)."""
    requirements = source_dir / function.requirements
    target = cache / f"{function.name}-requirements-{requirements_digest(requirements)}"
    if (target / ".complete").exists():
        return target
    # Two synths at once (the infra tests run two) each install into their own.
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    subprocess.run(  # noqa: S603 (our own interpreter's pip, on our requirements file)
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(partial),
            *PLATFORM_OPTIONS,
            "-r",
            str(requirements),
        ],
        check=True,
    )
    for distribution in LEFT_OUT:
        _leave_out(partial, distribution)
    # Console scripts and man pages: nothing runs or reads them on Lambda.
    for unused in ("bin", "share"):
        shutil.rmtree(partial / unused, ignore_errors=True)
    (partial / ".complete").touch()
    try:
        os.replace(partial, target)
    except OSError:  # another synth finished the same install first
        shutil.rmtree(partial, ignore_errors=True)
        if not (target / ".complete").exists():
            raise
    return target


def build_package(function: OwnFunction, source_dir: Path, outdir: Path, cache: Path) -> Path:
    """The function's package as a directory (CDK zips it as the asset):
    its requirements (installed into ``cache`` once per digest) and the
    packages of ours from ``source_dir``, in ``outdir``."""
    requirements = installed_requirements(function, source_dir, cache)
    package = outdir / function.name
    shutil.rmtree(package, ignore_errors=True)
    shutil.copytree(requirements, package, ignore=shutil.ignore_patterns(".complete"))
    for source in function.sources:
        shutil.copytree(source_dir / source, package / source, ignore=_IGNORED)
    return package


def zipped_size(package: Path) -> int:
    """The package's size zipped as the asset is (deflate), in bytes."""
    out = package.with_suffix(".measure.zip")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(package.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(package))
    size = out.stat().st_size
    out.unlink()
    return size
