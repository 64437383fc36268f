"""Where our events go and at which schema version (docs/events.md).

Apart from the schemas in events.py (pydantic models, costly to define) so
that the outbox, which the API function imports too, can name them without
building every event model on each cold start.
"""

from typing import Literal

SCHEMA_VERSION: Literal[1] = 1
SOURCE = "shop.orders"
