"""The suppression list: addresses that opted out of marketing email.

Stored by sha256 of the lower-cased address, never the address itself. An
opt-out link carries a random token; its hash (``OPTOUT#<hash>``) names the
address hash it was issued for, written with the nudge that sent the link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.store import keys
from chalicelib.store.attributes import from_dynamo, to_dynamo


class DynamoSuppressions:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def knows_token(self, opt_out_token_hash: str, *, at: datetime) -> bool:
        return self._token(opt_out_token_hash, at) is not None

    def opt_out(self, opt_out_token_hash: str, *, at: datetime, source: str) -> bool:
        token = self._token(opt_out_token_hash, at)
        if token is None:
            return False
        # Opting out twice is the same as once, and the first moment is kept.
        self.suppress(token["email_hash"], at=at, source=source)
        return True

    def suppress(self, email_hash: str, *, at: datetime, source: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=to_dynamo(keys.suppression(email_hash)),
            UpdateExpression=(
                "SET entity = :entity, suppressed_at = if_not_exists(suppressed_at, :at), "
                "#source = if_not_exists(#source, :source)"
            ),
            ExpressionAttributeNames={"#source": "source"},
            ExpressionAttributeValues=to_dynamo(
                {":entity": "suppression", ":at": at.isoformat(), ":source": source}
            ),
        )

    def is_suppressed(self, email_hash: str) -> bool:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_dynamo(keys.suppression(email_hash)),
            ConsistentRead=True,
            ProjectionExpression="PK",
        )
        return "Item" in response

    def _token(self, opt_out_token_hash: str, at: datetime) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_dynamo(keys.opt_out_token(opt_out_token_hash)),
            ConsistentRead=True,
        )
        token = from_dynamo(response.get("Item", {}))
        if not token or token.get("expires_at", 0) < int(at.timestamp()):
            # TTL deletes lazily: an expired token may still be in the table.
            return None
        return token
