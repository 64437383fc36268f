"""Write the machine catalogue of our events, docs/events.schema.json.

    python -m local.events_schema

Generated from the models in chalicelib/domain/events.py; a unit test fails
when the committed file and the models drift apart, so run this after
changing an event model (and update the catalogue in docs/events.md).
"""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "docs" / "events.schema.json"


def serialise() -> str:
    from chalicelib.domain.events import json_schemas

    return json.dumps(json_schemas(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    SCHEMA_FILE.write_text(serialise())
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()
