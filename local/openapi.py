"""`make openapi`: write the API contract and its reference page into docs/.

    python -m local.openapi [--out docs]

docs/openapi.json is the document GET /openapi.json serves; docs/api.html is
the human-readable reference rendered from it. A test fails when either is
stale, so run this after changing a route or a model.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def document() -> dict[str, Any]:
    # Importing the app needs a table name to exist, not a table.
    os.environ.setdefault("SHOP_TABLE_NAME", "shop-openapi")
    from app import app
    from chalicelib.api.openapi import build_document

    return build_document(app)


def reference_page() -> str:
    """The API reference as one HTML page (for the dev page to serve)."""
    from chalicelib.api.reference import render_reference

    return render_reference(document())


def serialise(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make openapi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    from chalicelib.api.reference import render_reference

    doc = document()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "openapi.json").write_text(serialise(doc))
    (args.out / "api.html").write_text(render_reference(doc))
    print(f"wrote {args.out / 'openapi.json'} and {args.out / 'api.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
