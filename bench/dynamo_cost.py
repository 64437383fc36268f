"""DynamoDB item sizes and write costs by AWS's published rules, because
moto reports no consumed capacity.

Sizes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
attribute names count in UTF-8 bytes; strings in UTF-8 bytes; binary in
bytes; numbers about one byte per two significant digits plus one; booleans
and nulls one byte; lists and maps three bytes plus one byte per element plus
their contents. A standard write costs one WCU per started KB of the item
(for an update, of the larger of the item before and after); a write inside
a transaction costs two.
"""

from __future__ import annotations

import math
from typing import Any


def value_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        digits = raw.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in raw)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size_bytes: int, transactional: bool) -> int:
    units = max(1, math.ceil(size_bytes / 1024))
    return 2 * units if transactional else units
