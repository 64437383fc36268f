"""The dev-only moto patch in local/aws.py: a cancelled transaction leaves
items and the stream exactly as they were."""

from __future__ import annotations

import boto3
import pytest

import local.aws  # noqa: F401 - applies the patch


def stream_records(table: str) -> list[dict]:
    dynamodb = boto3.client("dynamodb")
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = boto3.client(
        "dynamodbstreams", endpoint_url="https://streams.dynamodb.eu-central-1.amazonaws.com"
    )
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    return streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]


def test_a_cancelled_transaction_restores_items_and_stream(table):
    dynamodb = boto3.client("dynamodb")
    dynamodb.put_item(TableName=table, Item={"PK": {"S": "a"}, "SK": {"S": "x"}, "n": {"N": "5"}})
    before_records = len(stream_records(table))
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"PK": {"S": "a"}, "SK": {"S": "x"}},
                        "UpdateExpression": "SET n = n - :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": table, "Item": {"PK": {"S": "b"}, "SK": {"S": "x"}}}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"PK": {"S": "c"}, "SK": {"S": "x"}},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )
    assert dynamodb.get_item(TableName=table, Key={"PK": {"S": "a"}, "SK": {"S": "x"}})["Item"][
        "n"
    ] == {"N": "5"}
    assert "Item" not in dynamodb.get_item(
        TableName=table, Key={"PK": {"S": "b"}, "SK": {"S": "x"}}
    )
    assert len(stream_records(table)) == before_records
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"PK": {"S": "b"}, "SK": {"S": "x"}}}},
        ]
    )
    assert len(stream_records(table)) == before_records + 1
