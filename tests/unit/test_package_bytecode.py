"""The Lambda package's bytecode step (infrastructure/bytecode.py), on a
small package of the same shape as chalice's: what ships as what, and that
Python really loads it that way from a read-only copy."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from hashlib import sha1, sha256
from pathlib import Path

import pytest

from infrastructure import bytecode
from infrastructure.bytecode import (
    LAMBDA_RUNTIME,
    add_bytecode,
    ours_without_bytecode,
    runtime_of_this_python,
)

PACKAGE = {
    "app.py": "from chalicelib.greeting import GREETING\n",
    "chalicelib/__init__.py": "",
    "chalicelib/greeting.py": "GREETING = 'from our code'\n",
    importlib.util.cache_from_source("chalicelib/greeting.py"): "stale bytes from a checkout",
    "chalicelib/templates/mail.txt": "Hello {{ name }}\n",
    "pydantic/__init__.py": "VERSION = 'library'\n",
    "pydantic/v1/__init__.py": "LEGACY = True\n",
    "aws_lambda_powertools/__init__.py": "",
    "aws_lambda_powertools/logging/__init__.py": "LOGGER = 'powertools'\n",
    "aws_lambda_powertools/utilities/__init__.py": "",
    "aws_lambda_powertools/utilities/idempotency/__init__.py": "UNUSED = True\n",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui.js": "/* js */",
    "dns/__init__.py": "RESOLVER = True\n",
    "some_other_lib/__init__.py": "X = 1\n",
}


@pytest.fixture
def package(tmp_path: Path) -> Path:
    archive = tmp_path / "deployment.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, text in PACKAGE.items():
            z.writestr(name, text)
    return archive


def names(archive: Path) -> set[str]:
    with zipfile.ZipFile(archive) as z:
        return set(z.namelist())


def test_our_code_keeps_its_source_and_gains_unchecked_bytecode(package: Path) -> None:
    assert ours_without_bytecode(names(package)) == ["app.py", "chalicelib/__init__.py"]

    report = add_bytecode(package, runtime_of_this_python())

    shipped = names(package)
    for module in ("app.py", "chalicelib/__init__.py", "chalicelib/greeting.py"):
        assert module in shipped
        compiled = importlib.util.cache_from_source(module)
        assert compiled in shipped
        with zipfile.ZipFile(package) as z:
            header = z.read(compiled)[:8]
        assert header[:4] == importlib.util.MAGIC_NUMBER
        assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, unchecked
    assert "chalicelib/templates/mail.txt" in shipped
    assert ours_without_bytecode(shipped) == []
    assert report.ours_compiled == 3


def test_the_back_offices_modules_ship_as_source_only(tmp_path: Path) -> None:
    """Off every hot path, and their bytecode would not fit the package's
    budget: the first back-office request compiles them (docs/back-office.md)."""
    archive = tmp_path / "deployment.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("chalicelib/api/back_office.py", "PAGES = 1\n")
        z.writestr("chalicelib/identity/cognito.py", "POOL = 1\n")
        z.writestr("chalicelib/api/back_office_presenters.py", "NOT_LISTED = 1\n")

    add_bytecode(archive, runtime_of_this_python())

    shipped = names(archive)
    assert {"chalicelib/api/back_office.py", "chalicelib/identity/cognito.py"} <= shipped
    assert not any(n.endswith(".pyc") and ("back_office." in n or "cognito" in n) for n in shipped)
    # Only the modules listed: another module of ours keeps its bytecode.
    assert importlib.util.cache_from_source("chalicelib/api/back_office_presenters.py") in shipped
    assert ours_without_bytecode(shipped) == []


def test_loaded_libraries_ship_as_bytecode_only_and_the_rest_as_source(package: Path) -> None:
    report = add_bytecode(package, runtime_of_this_python())

    shipped = names(package)
    assert {"pydantic/__init__.pyc", "aws_lambda_powertools/logging/__init__.pyc"} <= shipped
    assert "pydantic/__init__.py" not in shipped
    assert "aws_lambda_powertools/logging/__init__.py" not in shipped
    # Not loaded by us: source only, as chalice packaged it.
    for source_only in ("pydantic/v1/__init__.py", "some_other_lib/__init__.py"):
        assert source_only in shipped
        assert source_only + "c" not in shipped
    assert report.libraries_compiled == 4


def test_never_loaded_code_and_stale_caches_are_dropped(package: Path) -> None:
    report = add_bytecode(package, runtime_of_this_python())

    shipped = names(package)
    # dnspython, and the parts of powertools we do not load.
    assert not any(n.startswith("dns/") for n in shipped)
    unloaded = ("event_handler/", "utilities/idempotency/")
    assert not any(n.startswith(f"aws_lambda_powertools/{u}") for n in shipped for u in unloaded)
    with zipfile.ZipFile(package) as z:
        fresh = z.read(importlib.util.cache_from_source("chalicelib/greeting.py"))
    assert b"stale bytes" not in fresh
    assert report.dropped == 4


def test_python_loads_the_package_as_shipped_without_reading_our_source(
    package: Path, tmp_path: Path
) -> None:
    add_bytecode(package, runtime_of_this_python())
    task = tmp_path / "task"
    with zipfile.ZipFile(package) as z:
        z.extractall(task)
    # Proof that the bytecode, not the source, is what runs: a changed
    # source is never read (unchecked), as in Lambda's read-only /var/task.
    (task / "chalicelib" / "greeting.py").write_text("raise SystemExit('source was read')\n")

    loaded = subprocess.run(
        [sys.executable, "-S", "-c", "import app, pydantic; print(app.GREETING, pydantic.VERSION)"],
        cwd=task,
        env={"PYTHONPATH": str(task), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["from", "our", "code", "library"]


def test_a_package_for_another_python_is_refused(package: Path) -> None:
    before = package.read_bytes()

    with pytest.raises(RuntimeError, match="would not load"):
        add_bytecode(package, "python3.9")

    assert package.read_bytes() == before


def test_the_toolchain_is_the_runtimes_python() -> None:
    assert LAMBDA_RUNTIME == "python3.13"
    assert runtime_of_this_python() == LAMBDA_RUNTIME


def test_a_package_for_another_runtime_is_refused_even_from_its_own_python(
    package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if chalice and the bytecode step ran on a Python 3.12: consistent,
    # but the functions would deploy on python3.12.
    monkeypatch.setattr(bytecode, "runtime_of_this_python", lambda: "python3.12")
    before = package.read_bytes()

    with pytest.raises(RuntimeError, match=r"the functions run on python3\.13"):
        add_bytecode(package, "python3.12")

    assert package.read_bytes() == before


def test_email_checks_never_load_dnspython() -> None:
    """dnspython is left out of the package; checking an address must not need it."""
    probe = (
        "import sys; sys.modules['dns'] = None\n"
        "from chalicelib.api.email_address import valid_email\n"
        "print(valid_email('erika@bücher.example'))\n"
    )
    checked = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "erika@xn--bcher-kva.example"


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def email_package(tmp_path: Path) -> Path:
    """A package with the email rendering as it ships: our code with its
    templates, Jinja2 and MarkupSafe; and a compiled set from a checkout."""
    archive = tmp_path / "deployment.zip"
    libraries = {}
    for name in ("jinja2", "markupsafe"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        libraries[name] = Path(spec.origin).parent
    with zipfile.ZipFile(archive, "w") as z:
        for path in (ROOT / "chalicelib").rglob("*.*"):
            if "__pycache__" not in path.parts and "templates_compiled" not in path.parts:
                z.write(path, path.relative_to(ROOT).as_posix())
        for name, directory in libraries.items():
            for path in directory.rglob("*"):
                if path.is_file() and "__pycache__" not in path.parts:
                    z.write(path, f"{name}/{path.relative_to(directory).as_posix()}")
        z.writestr("chalicelib/notify/templates_compiled/tmpl_from_a_checkout.py", "STALE = 1\n")
    return archive


def test_the_package_ships_every_email_template_compiled_to_bytecode(
    email_package: Path, tmp_path: Path
) -> None:
    from chalicelib.notify.emails import KINDS
    from chalicelib.notify.render import template_names

    report = add_bytecode(email_package, runtime_of_this_python())

    shipped = names(email_package)
    compiled = "chalicelib/notify/templates_compiled/"
    subjects = {sha256(s.encode()).hexdigest() for k in KINDS.values() for s in k.subject.values()}
    templates = [*template_names(), *(f"<string>/{digest}" for digest in subjects)]
    modules = {f"{compiled}tmpl_{sha1(n.encode()).hexdigest()}.pyc" for n in templates}
    # Bytecode only, and nothing of the checkout's copy.
    assert {n for n in shipped if n.startswith(compiled)} == modules | {f"{compiled}manifest.json"}
    with zipfile.ZipFile(email_package) as z:
        assert all(z.read(m)[:4] == importlib.util.MAGIC_NUMBER for m in modules)
    assert ours_without_bytecode(shipped) == []
    assert report.generated == len(templates) + 1
    # Loaded in Lambda's way, from a read-only unpacked package: the
    # environment takes the templates from the compiled modules.
    task = tmp_path / "task"
    with zipfile.ZipFile(email_package) as z:
        z.extractall(task)
    probe = (
        "from chalicelib.notify import render\n"
        "env = render.environment()\n"
        "print(type(env.loader).__name__, env.get_template('base.txt').filename)\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        cwd=task,
        env={"PYTHONPATH": str(task), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    loader, filename = loaded.stdout.split()
    assert loader == "CompiledLoader"
    assert Path(filename).relative_to(task).as_posix() in modules


def test_a_template_that_does_not_compile_fails_the_packaging(email_package: Path) -> None:
    with zipfile.ZipFile(email_package, "a") as z:
        z.writestr("chalicelib/notify/templates/de/broken.txt", "{% if %}\n")
    before = email_package.read_bytes()

    with pytest.raises(RuntimeError, match=r"precompile\.py failed(.|\n)*TemplateSyntaxError"):
        add_bytecode(email_package, runtime_of_this_python())

    assert email_package.read_bytes() == before


def test_library_metadata_keeps_what_importlib_metadata_reads(tmp_path: Path) -> None:
    metadata = (
        "Metadata-Version: 2.4\nName: some-lib\nVersion: 1.2.3\nLicense-Expression: MIT\n"
        "Requires-Dist: other>=1\n\n# some-lib\n\nA long README that nothing at run time reads.\n"
    )
    archive = tmp_path / "deployment.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("app.py", "")
        z.writestr("some_lib/__init__.py", "")
        z.writestr("some_lib-1.2.3.dist-info/METADATA", metadata)
        z.writestr("some_lib-1.2.3.dist-info/RECORD", "some_lib/__init__.py,sha256=x,0\n")
        z.writestr("some_lib-1.2.3.dist-info/sboms/some_lib.cyclonedx.json", "{}")
        z.writestr("some_lib-1.2.3.dist-info/licenses/LICENSE", "MIT licence text")
        z.writestr("chalicelib/RECORD", "ours: a file that happens to be called RECORD")

    add_bytecode(archive, runtime_of_this_python())

    shipped = names(archive)
    assert "some_lib-1.2.3.dist-info/RECORD" not in shipped
    assert "some_lib-1.2.3.dist-info/sboms/some_lib.cyclonedx.json" not in shipped
    assert "some_lib-1.2.3.dist-info/licenses/LICENSE" in shipped
    assert "chalicelib/RECORD" in shipped
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(archive) as z:
        z.extractall(unpacked)
        trimmed = z.read("some_lib-1.2.3.dist-info/METADATA").decode()
    assert "README" not in trimmed and "License-Expression: MIT" in trimmed
    found = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m; "
         "d = m.distribution('some-lib'); print(d.version, d.requires)"],
        cwd=unpacked, env={"PYTHONPATH": str(unpacked)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert found.stdout.strip() == "1.2.3 ['other>=1']"
