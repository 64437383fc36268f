"""Fixed-window attempt counters in DynamoDB (the withdrawal lookup's throttle).

One item per client, scope and window, ``ATTEMPTS#<scope>#<client hash>#<window
start>``: an atomic ``ADD`` counts the attempt and returns the new count, so
concurrent attempts cannot slip past the limit between a read and a write.
DynamoDB's TTL deletes the item after its window.
"""

from __future__ import annotations

from typing import Any

from chalicelib.store import keys
from chalicelib.store.attributes import from_dynamo, to_dynamo


class DynamoAttemptCounter:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def count(self, scope: str, client_hash: str, *, window_start: int, expires_at: int) -> int:
        response = self._client.update_item(
            TableName=self._table,
            Key=to_dynamo(keys.attempts(scope, client_hash, window_start)),
            UpdateExpression="ADD attempts :one SET entity = :entity, expires_at = :expires",
            ExpressionAttributeValues=to_dynamo(
                {":one": 1, ":entity": "attempts", ":expires": expires_at}
            ),
            ReturnValues="UPDATED_NEW",
        )
        return int(from_dynamo(response["Attributes"])["attempts"])
