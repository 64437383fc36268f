"""Compiled bytecode in the Lambda package (``chalice package`` ships none).

Lambda unpacks the package into /var/task, which is read-only, so Python
cannot cache what it compiles: without .pyc files in the zip, every cold
start compiles every module it imports, ours and the libraries'. Measured
on the prod package: ``import app`` 938 ms from the package as chalice
builds it, 317 ms with bytecode (bench/cold_start.py measures the package).

What ``add_bytecode`` does to a deployment.zip, after chalice has built it:

- Our code (app.py, chalicelib/): the source stays, and its bytecode goes
  beside it in ``__pycache__``, hash-based and unchecked (PEP 552): the
  package never changes after it is built, so Python loads the bytecode
  without reading the source to validate it, and tracebacks still quote our
  source lines.
- The libraries the functions load (``COMPILED``): bytecode *instead of* the
  source (``module.pyc`` where ``module.py`` was, which Python imports as a
  sourceless module). Shipping both would take the package over its 5 MB
  target; the price is that a traceback through library code shows file and
  line but not the line's text.
- The back office's modules (``SOURCE_ONLY``): source only. They serve the
  merchant's pages, never the storefront's or a callback's cold start, and
  their bytecode would take the package over its target (about 38 kB of
  the zip); the first back-office request of an instance compiles them
  instead (about 35 ms on a full core, docs/back-office.md).
- Library code we never load stays source only (e.g. pydantic.v1): a
  missing .pyc only ever costs time.
- Dropped, because nothing we run can load it (``NEVER_LOADED``):
  dnspython (email-validator loads it only for deliverability checks, which
  we never ask for; a test guards that), and every part of powertools but
  the ones we load (``POWERTOOLS_COMPILED``: the logger, metrics and
  parameters and what they import), such as its event handler, parser,
  batch, idempotency and data classes; tests/unit/test_cold_start_imports.py
  checks that every powertools module our functions load ships.
- The libraries' package metadata, trimmed to what a running function can
  ask for: ``importlib.metadata`` reads METADATA's headers (name, version,
  requirements, licence), so each METADATA keeps its headers and loses its
  long description (the project's README); RECORD (every file's hash, read
  only by installers) and the SBOMs under ``sboms/`` go. The licence files
  stay. Together about 0.1 MB of the zip (docs/performance.md).
- Any ``__pycache__`` chalice copied from a developer's checkout is dropped:
  it was compiled against that checkout's timestamps.
- Modules of ours generated from the package (``GENERATED``): the email
  templates and subjects compiled to Python
  (chalicelib/notify/precompile.py, compiled_templates.py), so no cold start compiles a
  template. Before the bytecode, the package is unpacked and the generating
  module runs on its chalicelib, with this Python and its libraries (the
  app's pins: requirements.txt is in .venv and .venv-infra alike), not the
  package's, which are built for Lambda's platform. The compiled set records
  its Jinja2 version, and the functions use it only under that version.
  Its modules ship as bytecode only (no
  traceback quotes a generated line: Jinja2 points at the template's own
  line), its other files as written; a copy of them chalice took from a
  checkout is dropped.

Bytecode is specific to a Python minor version. chalice picks the Lambda
runtime from the Python that runs it, which is the one compiling here;
``add_bytecode`` refuses a package whose runtime differs, and one for any
runtime but ``LAMBDA_RUNTIME``: packaged by another Python, the functions
would deploy on another runtime without a word.

Standard library only: it runs under .venv-infra (CDK synth) and .venv (bench);
what needs the app's libraries runs in a subprocess from the unpacked package.
"""

from __future__ import annotations

import importlib.util
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The functions' Lambda runtime (the Makefile's venvs are built on its Python).
LAMBDA_RUNTIME = "python3.13"

#: Libraries the functions load, shipped as bytecode instead of source.
COMPILED = (
    "annotated_types/",
    "chalice/",
    "email_validator/",
    "idna/",
    "jinja2/",
    "jmespath/",
    "markupsafe/",
    "pydantic/",
    "pydantic_core/",
    "typing_extensions.py",
    "typing_inspection/",
)
#: powertools: only the parts we load (Logger, Metrics, parameters); the rest is dropped.
POWERTOOLS = "aws_lambda_powertools/"
POWERTOOLS_COMPILED = (
    "exceptions/",
    "logging/",
    "metrics/",
    "middleware_factory/",
    "shared/",
    "tracing/",
    "utilities/__init__.py",
    "utilities/jmespath_utils/",
    "utilities/parameters/",
    "warnings/",
)
#: Inside COMPILED, left as source: parts of pydantic nothing of ours imports.
LEFT_AS_SOURCE = ("pydantic/v1/", "pydantic/deprecated/", "pydantic/experimental/")

#: Modules of ours shipped as source only (see the module docstring).
SOURCE_ONLY = (
    "chalicelib/api/back_office.py",
    "chalicelib/api/back_office_pages.py",
    "chalicelib/domain/staff.py",
    "chalicelib/identity/",
    "chalicelib/services/back_office.py",
    "chalicelib/store/sessions.py",
)

#: Nothing we run can load these (see the module docstring).
NEVER_LOADED = ("dns/",)

#: Modules of ours that generate modules into the package: the generating
#: module's file -> the directory it writes (see the module docstring).
GENERATED = {"chalicelib/notify/precompile.py": "chalicelib/notify/templates_compiled/"}


@dataclass(frozen=True)
class BytecodeReport:
    ours_compiled: int
    libraries_compiled: int
    dropped: int
    bytes_before: int
    bytes_after: int
    generated: int = 0


def runtime_of_this_python() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def is_ours(name: str) -> bool:
    """Our code: shipped as source plus unchecked bytecode in __pycache__
    (but ``SOURCE_ONLY``)."""
    return (name == "app.py" or name.startswith("chalicelib/")) and not name.startswith(SOURCE_ONLY)


def ours_without_bytecode(names: set[str]) -> list[str]:
    """The modules of ours in a package's file list that lack their bytecode."""
    return sorted(
        n
        for n in names
        if n.endswith(".py") and is_ours(n) and importlib.util.cache_from_source(n) not in names
    )


def ships_compiled_only(name: str) -> bool:
    """A library module shipped as bytecode instead of source."""
    if name.startswith(POWERTOOLS):
        return is_loaded_powertools(name)
    return name.startswith(COMPILED) and not name.startswith(LEFT_AS_SOURCE)


def is_loaded_powertools(name: str) -> bool:
    """A file of the parts of powertools we load (the others are dropped)."""
    rest = name[len(POWERTOOLS) :]
    return "/" not in rest or rest.startswith(POWERTOOLS_COMPILED)


def is_dropped(name: str) -> bool:
    return (
        name.startswith(NEVER_LOADED)
        or _is_installer_metadata(name)
        or (name.startswith(POWERTOOLS) and not is_loaded_powertools(name))
        or "__pycache__/" in name
        or name.endswith(".pyc")
    )


def _is_installer_metadata(name: str) -> bool:
    """A library's RECORD or SBOM: read by installers and scanners, never at run time."""
    directory, _, rest = name.partition(".dist-info/")
    return (
        bool(directory) and "/" not in directory and (rest == "RECORD" or rest.startswith("sboms/"))
    )


def metadata_headers(metadata: bytes) -> bytes:
    """A METADATA file without its long description: the headers, up to the
    first empty line (the core metadata format, an email-style message)."""
    text = metadata.decode("utf-8")
    headers, _, _ = text.replace("\r\n", "\n").partition("\n\n")
    return (headers + "\n").encode("utf-8")


def compile_module(source: bytes, name: str, workdir: Path) -> bytes:
    """Unchecked hash-based bytecode for one module, named as in the zip."""
    source_path = workdir / "module.py"
    compiled_path = workdir / "module.pyc"
    source_path.write_bytes(source)
    py_compile.compile(
        str(source_path),
        cfile=str(compiled_path),
        dfile=name,
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    return compiled_path.read_bytes()


def add_bytecode(package: Path, runtime: str) -> BytecodeReport:
    """Rewrite ``package`` (a deployment.zip) in place; see the module docstring."""
    if runtime != runtime_of_this_python():
        raise RuntimeError(
            f"the package is for {runtime}, but this is {runtime_of_this_python()}: "
            "its bytecode would not load; package with the runtime's Python"
        )
    if runtime != LAMBDA_RUNTIME:
        raise RuntimeError(
            f"the package is for {runtime}, but the functions run on {LAMBDA_RUNTIME}: "
            "package with its Python (the Makefile's .venv and .venv-infra are)"
        )
    before = package.stat().st_size
    ours = libraries = dropped = 0
    rewritten = package.with_suffix(".bytecode.zip")
    with (
        tempfile.TemporaryDirectory() as work,
        zipfile.ZipFile(package) as source_zip,
        zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        generated = generate_modules(source_zip, Path(work))
        for entry, data in (file for files in generated.values() for file in files):
            out.writestr(entry, data)
        for entry in source_zip.infolist():
            name = entry.filename
            # A checkout's copy of what was just generated goes too.
            if is_dropped(name) or name.startswith(tuple(generated)):
                dropped += 1
                continue
            data = source_zip.read(entry)
            if name.endswith(".dist-info/METADATA"):
                data = metadata_headers(data)
            if not name.endswith(".py") or not (is_ours(name) or ships_compiled_only(name)):
                out.writestr(_like(entry, name), data)
                continue
            compiled = compile_module(data, name, Path(work))
            if is_ours(name):
                out.writestr(_like(entry, name), data)
                out.writestr(_like(entry, importlib.util.cache_from_source(name)), compiled)
                ours += 1
            else:
                out.writestr(_like(entry, name + "c"), compiled)
                libraries += 1
    shutil.move(rewritten, package)
    count = sum(len(files) for files in generated.values())
    return BytecodeReport(ours, libraries, dropped, before, os.path.getsize(package), count)


def generate_modules(
    package: zipfile.ZipFile, work: Path
) -> dict[str, list[tuple[zipfile.ZipInfo, bytes]]]:
    """Runs each ``GENERATED`` module the package holds in the package
    unpacked under ``work``; per directory written, what it wrote there as
    new zip entries with their data, modules as bytecode only."""
    names = set(package.namelist())
    task = work / "task"
    generators = {module: directory for module, directory in GENERATED.items() if module in names}
    if not generators:
        return {}
    package.extractall(task)
    # Our code from the package, the libraries from this Python's environment:
    # -P keeps the working directory (the package's libraries) off sys.path.
    ours = work / "ours"
    ours.mkdir()
    (ours / "chalicelib").symlink_to(task / "chalicelib", target_is_directory=True)
    found = {}
    for module, directory in generators.items():
        shutil.rmtree(task / directory, ignore_errors=True)  # a checkout's copy
        done = subprocess.run(  # noqa: S603  (our module, in the package we are building)
            [sys.executable, "-P", "-m", module.removesuffix(".py").replace("/", ".")],
            cwd=task,
            env={**os.environ, "PYTHONPATH": str(ours), "PYTHONDONTWRITEBYTECODE": "1"},
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{module} failed in the package:\n{done.stderr[-3000:]}")
        like = package.getinfo(module)
        found[directory] = []
        for path in sorted(p for p in (task / directory).rglob("*") if p.is_file()):
            name, data = path.relative_to(task).as_posix(), path.read_bytes()
            if name.endswith(".py"):
                name, data = name + "c", compile_module(data, name, work)
            found[directory].append((_like(like, name), data))
    return found


def _like(entry: zipfile.ZipInfo, name: str) -> zipfile.ZipInfo:
    """A new entry with the original's time and permissions."""
    info = zipfile.ZipInfo(name, date_time=entry.date_time)
    info.external_attr = entry.external_attr
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def function_properties(sam_template: Path) -> list[dict[str, Any]]:
    """The Properties of each function in a ``chalice package`` output's sam.json."""
    resources = json.loads(sam_template.read_text())["Resources"].values()
    return [r["Properties"] for r in resources if r["Type"] == "AWS::Serverless::Function"]


def package_runtime(sam_template: Path) -> str:
    """The one Lambda runtime of a ``chalice package`` output's functions."""
    (runtime,) = {properties["Runtime"] for properties in function_properties(sam_template)}
    return str(runtime)
