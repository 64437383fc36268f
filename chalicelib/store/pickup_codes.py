"""The pickup code of an order, for the notifications function's
ready-for-pickup email (the code is kept on the order item only)."""

from __future__ import annotations

from typing import Any

from chalicelib.store import keys
from chalicelib.store.attributes import from_dynamo, to_dynamo


class DynamoPickupCodes:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def pickup_code(self, order_id: str) -> str | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_dynamo(keys.order(order_id)),
            ProjectionExpression="pickup_code",
            ConsistentRead=True,
        )
        code = from_dynamo(response.get("Item", {})).get("pickup_code")
        return str(code) if code is not None else None
