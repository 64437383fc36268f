"""Creates the system's AWS resources on the embedded AWS from the same
definitions the deployment uses (infrastructure/definitions.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.store import schema


def create_table(dynamodb: Any, table_name: str) -> None:
    dynamodb.create_table(**schema.create_table_request(table_name))
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)
    dynamodb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": schema.TTL_ATTRIBUTE},
    )


def put_admin_key_hashes(ssm: Any, name: str, value: str) -> None:
    ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def create_queue(sqs: Any, name: str, *, fifo: bool, visibility_timeout: int = 180) -> str:
    """A queue as infrastructure/definitions.py describes it; its URL."""
    attributes = {"VisibilityTimeout": str(visibility_timeout)}
    if fifo:
        attributes["FifoQueue"] = "true"
    return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
