"""``python -m chalicelib.notify.precompile [directory]``: every email
template and subject compiled into the package's compiled set (by the
packaging step, infrastructure/bytecode.py; see compiled_templates.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from chalicelib.notify import emails, render
from chalicelib.notify.compiled_templates import COMPILED, compile_all


def compile_emails(directory: Path) -> dict[str, str]:
    """Every email template (render.py) and every subject (emails.py)
    compiled into ``directory``; see ``compile_all``."""
    environment = render.source_environment()
    return compile_all(
        environment,
        directory,
        strings=[source for kind in emails.KINDS.values() for source in kind.subject.values()],
        strings_environment=render.string_environment(environment),
    )


def main() -> None:
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else COMPILED
    compiled = compile_emails(directory)
    print(json.dumps({"compiled": len(compiled), "directory": str(directory)}))


if __name__ == "__main__":
    main()
