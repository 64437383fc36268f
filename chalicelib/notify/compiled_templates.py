"""The email templates compiled to Python modules when the package is built.

Compiling a template (Jinja2's lexer, parser and code generator, then
Python's ``compile``) costs far more than importing the module it becomes,
and every cold start of the notifications function used to compile each
template its first email needed (the email's two, the frame's two, the
macros). The packaging step (infrastructure/bytecode.py) runs
``python -m chalicelib.notify.compiled_templates`` in the unpacked package:
it compiles every template with the environment that renders them
(render.py) into ``templates_compiled/``, one ``tmpl_<sha1 of name>.py``
module each, beside a manifest of the source each was compiled from and the
Jinja2 version that compiled it. The bytecode step then ships those modules
with their bytecode, like the rest of our code.

At run time ``loader`` takes each template from its compiled module when
the manifest says it was compiled from the very source beside it by this
Jinja2 version, and compiles the source otherwise: a checkout, the tests and
the local stack have no compiled set, and a stale one is never used.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, MutableMapping
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

    def __init__(self, directory: Path, digests: dict[str, str], source: jinja2.BaseLoader) -> None:
        self._modules = jinja2.ModuleLoader(str(directory))
        self._digests = digests
        self._source = source

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


def loader(source: jinja2.BaseLoader, directory: Path = COMPILED) -> jinja2.BaseLoader:
    """The compiled set in ``directory`` over ``source``, or ``source``
    alone where there is no set, or one another Jinja2 version compiled."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return source
    if manifest.get("jinja2") != jinja2.__version__:
        return source
    return CompiledLoader(directory, manifest["templates"], source)


def compile_all(environment: jinja2.Environment, directory: Path) -> dict[str, str]:
    """Every template of ``environment``'s loader compiled into ``directory``
    with its manifest; returns template name -> module file name. Fails on the
    first template that does not compile."""
    assert environment.loader is not None
    names = environment.list_templates()
    environment.compile_templates(str(directory), zip=None, ignore_errors=False)
    digests = {name: digest(environment.loader.get_source(environment, name)[0]) for name in names}
    manifest = {"jinja2": jinja2.__version__, "templates": digests}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return {name: jinja2.ModuleLoader.get_module_filename(name) for name in names}


def main() -> None:
    from chalicelib.notify import render

    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else COMPILED
    compiled = compile_all(render.source_environment(), directory)
    print(json.dumps({"compiled": len(compiled), "directory": str(directory)}))


if __name__ == "__main__":
    main()
