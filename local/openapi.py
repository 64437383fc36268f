"""`make openapi`: write the API contract and its reference page.

    python -m local.openapi [--out docs]

docs/openapi.json is the contract, docs/api.html the human-readable
reference rendered from it; chalicelib/api/openapi.json is the same
document, compact, shipped with the Lambda for GET /openapi.json to serve
(chalicelib/api/docs.py). A test fails when any of them is stale, so run
this after changing a route or a model.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: The copy the Lambda serves (chalicelib/api/docs.py DOCUMENT).
SHIPPED = ROOT / "chalicelib" / "api" / "openapi.json"


def document() -> dict[str, Any]:
    # Importing the app needs a table name to exist, not a table.
    os.environ.setdefault("SHOP_TABLE_NAME", "shop-openapi")
    from app import app
    from local.openapi_document import build_document

    return build_document(app)


def reference_page() -> str:
    """The API reference as one HTML page (for the dev page to serve)."""
    from local.api_reference import render_reference

    return render_reference(document())


def serialise(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def shipped(doc: dict[str, Any]) -> str:
    """The served form: compact and ASCII, as Chalice itself renders a dict."""
    return json.dumps(doc, separators=(",", ":"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make openapi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--shipped", type=Path, default=SHIPPED)
    args = parser.parse_args(argv)
    from local.api_reference import render_reference

    doc = document()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "openapi.json").write_text(serialise(doc))
    (args.out / "api.html").write_text(render_reference(doc))
    args.shipped.write_text(shipped(doc))
    print(f"wrote {args.out / 'openapi.json'}, {args.out / 'api.html'} and {args.shipped}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
