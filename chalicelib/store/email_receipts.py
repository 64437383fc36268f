"""Email receipts in the table: exactly one email per (order or cart, kind,
event); the EmailReceipts port (services/ports.py).

Sending is claim -> send -> complete. The claim is a conditional put, so of
two deliveries of the same event only one may send. A failed send releases
the claim (the retry sends); a claim left behind by a crashed worker expires
after a lease and is then taken over. The one gap left is a crash between
SES accepting the mail and ``complete``: a redelivery after the lease sends
again. SES offers no idempotency key to close it.
"""

from __future__ import annotations

import secrets
from typing import Any

from chalicelib.observability import logger
from chalicelib.services.ports import AlreadySent, ReceiptKey, SendInProgress


class DynamoEmailReceipts:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def claim(self, key: ReceiptKey, *, now: int, lease_seconds: int, ttl_seconds: int) -> str:
        from botocore.exceptions import ClientError

        from chalicelib.store import keys
        from chalicelib.store.attributes import from_dynamo, to_dynamo
        from chalicelib.store.errors import is_conditional_check_failure

        token = secrets.token_hex(8)
        item = {
            **keys.email_receipt(key.subject_id, key.kind, key.event_id),
            "entity": "email_receipt",
            "kind": key.kind,
            "event_id": key.event_id,
            "state": "sending",
            "claim": token,
            "lease_until": now + lease_seconds,
            "expires_at": now + ttl_seconds,
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_dynamo(item),
                ConditionExpression=(
                    "attribute_not_exists(PK) OR (#state = :sending AND lease_until < :now)"
                ),
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_dynamo({":sending": "sending", ":now": now}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_conditional_check_failure(exc):
                raise
            old = from_dynamo(exc.response.get("Item", {}))
            if old.get("state") == "sent":
                raise AlreadySent(key.kind) from exc
            raise SendInProgress(key.kind) from exc
        return token

    def release(self, key: ReceiptKey, token: str) -> None:
        from botocore.exceptions import ClientError

        from chalicelib.store import keys
        from chalicelib.store.attributes import to_dynamo
        from chalicelib.store.errors import is_conditional_check_failure

        try:
            self._client.delete_item(
                TableName=self._table,
                Key=to_dynamo(keys.email_receipt(key.subject_id, key.kind, key.event_id)),
                ConditionExpression="claim = :token",
                ExpressionAttributeValues=to_dynamo({":token": token}),
            )
        except ClientError as exc:
            if not is_conditional_check_failure(exc):
                raise

    def complete(self, key: ReceiptKey, token: str, *, message_id: str, now: int) -> None:
        from botocore.exceptions import ClientError

        from chalicelib.store import keys
        from chalicelib.store.attributes import to_dynamo

        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo(keys.email_receipt(key.subject_id, key.kind, key.event_id)),
                UpdateExpression="SET #state = :sent, message_id = :mid, sent_at = :now "
                "REMOVE lease_until",
                ConditionExpression="claim = :token",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_dynamo(
                    {":sent": "sent", ":mid": message_id, ":now": now, ":token": token}
                ),
            )
        except ClientError as exc:
            # The mail is out: failing the event now would only send it again
            # once the lease ends. The claim stays and still blocks duplicates
            # until then.
            logger.warning(
                "email receipt not completed", kind=key.kind, code=exc.response["Error"]["Code"]
            )
