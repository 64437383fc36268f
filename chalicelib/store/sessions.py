"""Back-office sessions in DynamoDB: ``SESSION#<sha256 of the id>``, written
only if absent, deleted by TTL at the absolute expiry (docs/back-office.md).

The table never holds a session id, only its hash: a copy of the table (a
backup, an export) signs nobody in. The idle and absolute expiry are checked
by the use case on every read; TTL only clears the table, as it may lag by
hours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.staff import Role, StaffSession
from chalicelib.store import keys, schema
from chalicelib.store.attributes import from_dynamo, to_dynamo


class DynamoStaffSessions:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create(self, session: StaffSession) -> None:
        item = {
            **keys.staff_session(session.id_hash),
            "entity": "staff_session",
            "subject": session.subject,
            "username": session.username,
            "email": session.email,
            "role": session.role.value,
            "csrf_token": session.csrf_token,
            "created_at": session.created_at.isoformat(),
            "last_seen_at": session.last_seen_at.isoformat(),
            "session_expires_at": session.expires_at.isoformat(),
            schema.TTL_ATTRIBUTE: int(session.expires_at.timestamp()),
        }
        self._client.put_item(
            TableName=self._table,
            Item=to_dynamo(item),
            # 256 random bits never collide; the condition makes it a fact.
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get(self, id_hash: str) -> StaffSession | None:
        found = self._client.get_item(
            TableName=self._table, Key=to_dynamo(keys.staff_session(id_hash)), ConsistentRead=True
        ).get("Item")
        if found is None:
            return None
        item = from_dynamo(found)
        return StaffSession(
            id_hash=id_hash,
            subject=item["subject"],
            username=item["username"],
            role=Role(item["role"]),
            csrf_token=item["csrf_token"],
            created_at=datetime.fromisoformat(item["created_at"]),
            last_seen_at=datetime.fromisoformat(item["last_seen_at"]),
            expires_at=datetime.fromisoformat(item["session_expires_at"]),
            email=item.get("email", ""),
        )

    def touch(self, id_hash: str, at: datetime) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_dynamo(keys.staff_session(id_hash)),
                UpdateExpression="SET last_seen_at = :at",
                # A signed-out session is not brought back by a late request.
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=to_dynamo({":at": at.isoformat()}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def delete(self, id_hash: str) -> None:
        self._client.delete_item(TableName=self._table, Key=to_dynamo(keys.staff_session(id_hash)))
