"""The email templates compiled to Python modules when the package is built.

Compiling a template (Jinja2's lexer, parser and code generator, then
Python's ``compile``) costs far more than importing the module it becomes,
and every cold start of the notifications function used to compile each
template its first email needed (the email's two, the frame's two, the
macros). The packaging step (infrastructure/bytecode.py) runs
``python -m chalicelib.notify.precompile`` on the package's chalicelib: it
compiles every template with the environment that renders
them (render.py), and every subject (emails.py, never autoescaped), into
``templates_compiled/``, one ``tmpl_<sha1 of name>.py`` module each (a
subject's name is the digest of its source), beside a manifest of the
source each template was compiled from and the Jinja2 version that compiled
them. The bytecode step ships those modules as bytecode.

At run time ``loader`` takes each template from its compiled module when
the manifest says it was compiled from the very source beside it by this
Jinja2 version, and compiles the source otherwise (``from_string`` likewise
for a subject): a checkout, the tests and the local stack have no compiled
set, and a stale one, or one of another Jinja2, is never used.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Any

import jinja2

#: Written by the packaging step; absent from a checkout.
COMPILED = Path(__file__).parent / "templates_compiled"
MANIFEST = "manifest.json"


def digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


class CompiledLoader(jinja2.BaseLoader):
    """Each template from its compiled module if that was compiled from the
    source the source loader finds now, else from that source."""

    def __init__(
        self,
        directory: Path,
        digests: dict[str, str],
        source: jinja2.BaseLoader,
        strings: frozenset[str] = frozenset(),
    ) -> None:
        self._modules = jinja2.ModuleLoader(str(directory))
        self._digests = digests
        self._source = source
        self._strings = strings

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        return self._source.get_source(environment, template)

    def list_templates(self) -> list[str]:
        return self._source.list_templates()

    def load(
        self,
        environment: jinja2.Environment,
        name: str,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        source, _, _ = self._source.get_source(environment, name)
        if self._digests.get(name) == digest(source):
            return self._modules.load(environment, name, globals)
        return self._source.load(environment, name, globals)

    def from_string(self, environment: jinja2.Environment, source: str) -> jinja2.Template:
        """A string template (a subject) from its compiled module if the set
        has one of this very source, else compiled now."""
        name = string_name(source)
        if name in self._strings:
            return self._modules.load(environment, name, environment.make_globals(None))
        return environment.from_string(source)


def string_name(source: str) -> str:
    """The name a string template is compiled under: its source's digest."""
    return f"<string>/{digest(source)}"


def from_string(environment: jinja2.Environment, source: str) -> jinja2.Template:
    """``environment.from_string(source)``, from the compiled set where it has it."""
    if isinstance(environment.loader, CompiledLoader):
        return environment.loader.from_string(environment, source)
    return environment.from_string(source)


def loader(source: jinja2.BaseLoader, directory: Path = COMPILED) -> jinja2.BaseLoader:
    """The compiled set in ``directory`` over ``source``, or ``source``
    alone where there is no set, or one another Jinja2 version compiled."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return source
    if manifest.get("jinja2") != jinja2.__version__:
        return source
    strings = frozenset(manifest.get("strings", ()))
    return CompiledLoader(directory, manifest["templates"], source, strings)


def compile_all(
    environment: jinja2.Environment,
    directory: Path,
    strings: Iterable[str] = (),
    strings_environment: jinja2.Environment | None = None,
) -> dict[str, str]:
    """Every template of ``environment``'s loader compiled into ``directory``,
    and every string template of ``strings`` in ``strings_environment``
    (``environment`` if not given), with the manifest; returns template name
    -> module file name. Fails on the first template that does not compile."""
    assert environment.loader is not None
    names = environment.list_templates()
    environment.compile_templates(str(directory), zip=None, ignore_errors=False)
    by_string = strings_environment or environment
    string_names = []
    for source in sorted(set(strings)):
        name = string_name(source)
        code = by_string.compile(source, name, raw=True, defer_init=True)
        (directory / jinja2.ModuleLoader.get_module_filename(name)).write_text(code)
        string_names.append(name)
    digests = {name: digest(environment.loader.get_source(environment, name)[0]) for name in names}
    manifest = {"jinja2": jinja2.__version__, "templates": digests, "strings": sorted(string_names)}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return {name: jinja2.ModuleLoader.get_module_filename(name) for name in names + string_names}
