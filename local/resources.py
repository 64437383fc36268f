"""Creates the system's AWS resources on the embedded AWS from the same
definitions the deployment uses (infrastructure/definitions.py): the table,
the bus and its rules, the queues with their dead-letter queues, the SES
identity and configuration set, and the SSM parameters with their
documented local values."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chalicelib.store import schema
from infrastructure import definitions

LOCAL_STAGE = "local"
#: The invoices bucket of a local run (SHOP_INVOICE_BUCKET).
LOCAL_INVOICE_BUCKET = "shop-invoices-local"


def create_table(dynamodb: Any, table_name: str) -> None:
    dynamodb.create_table(**schema.create_table_request(table_name))
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)
    dynamodb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": schema.TTL_ATTRIBUTE},
    )


def put_admin_key_hashes(ssm: Any, name: str, value: str) -> None:
    ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


@dataclass
class Provisioned:
    """What was created, by the names the definitions use."""

    table_name: str
    bus_name: str
    queue_urls: dict[str, str] = field(default_factory=dict)  # definition name -> URL
    queue_arns: dict[str, str] = field(default_factory=dict)
    dlq_urls: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)  # env setting -> parameter name
    invoice_bucket: str = LOCAL_INVOICE_BUCKET


def create_queues(sqs: Any, provisioned: Provisioned) -> None:
    for queue in definitions.QUEUES:
        fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "false"} if queue.fifo else {}
        dlq_url = sqs.create_queue(QueueName=queue.dlq_name, Attributes=fifo)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        url = sqs.create_queue(
            QueueName=queue.queue_name,
            Attributes={
                **fifo,
                "VisibilityTimeout": str(queue.visibility_timeout),
                "RedrivePolicy": json.dumps(
                    {
                        "deadLetterTargetArn": dlq_arn,
                        "maxReceiveCount": str(queue.max_receive_count),
                    }
                ),
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        provisioned.queue_urls[queue.name] = url
        provisioned.queue_arns[queue.name] = arn
        provisioned.dlq_urls[queue.name] = dlq_url


def create_invoice_bucket(s3: Any, name: str) -> None:
    """The invoices bucket as deployed (infrastructure/stack.py): versioned,
    with Object Lock in compliance mode, so a second put of a key would add a
    version here too and the conditional put is tested against the real rules."""
    from chalicelib.domain.archive import RETENTION_YEARS

    region = s3.meta.region_name
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    s3.create_bucket(
        Bucket=name, ObjectLockEnabledForBucket=True, CreateBucketConfiguration=location
    )
    s3.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": RETENTION_YEARS}},
        },
    )


def create_bus_and_rules(events: Any, provisioned: Provisioned) -> None:
    events.create_event_bus(Name=provisioned.bus_name)
    for rule in definitions.RULES:
        events.put_rule(
            Name=rule.name,
            EventBusName=provisioned.bus_name,
            EventPattern=json.dumps(rule.pattern),
            State="ENABLED",
        )
        events.put_targets(
            Rule=rule.name,
            EventBusName=provisioned.bus_name,
            Targets=[{"Id": rule.queue, "Arn": provisioned.queue_arns[rule.queue]}],
        )


def create_email_identity(sesv2: Any, sender: str, configuration_set: str) -> None:
    """moto's SES only sends from verified identities, like SES's sandbox."""
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    sesv2.create_email_identity(EmailIdentity=address.split("@", 1)[1])
    sesv2.create_email_identity(EmailIdentity=address)
    sesv2.create_configuration_set(ConfigurationSetName=configuration_set)


def create_parameters(ssm: Any, overrides: dict[str, str]) -> dict[str, str]:
    """Every parameter with its documented local value (or an override)."""
    names: dict[str, str] = {}
    for parameter in definitions.PARAMETERS:
        name = parameter.name.format(stage=LOCAL_STAGE)
        value = overrides.get(parameter.env, parameter.local_value)
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
        names[parameter.env] = name
    return names


#: The local back office's users (docs/back-office.md, README): address,
#: password, group. Fixed and documented, like every other local secret.
LOCAL_STAFF = (
    ("owner@shop.local", "Local-Owner-2026!", "owner"),
    ("staff@shop.local", "Local-Staff-2026!", "staff"),
    ("warehouse@shop.local", "Local-Warehouse-2026!", "warehouse"),
)


@dataclass(frozen=True)
class StaffPool:
    user_pool_id: str
    client_id: str


def create_staff_pool(cognito: Any, name: str = "shop-staff-local") -> StaffPool:
    """The back office's user pool: its app client (USER_PASSWORD_AUTH, no
    secret), one group per role, and the local users with permanent passwords."""
    from chalicelib.domain.staff import Role

    pool = cognito.create_user_pool(
        PoolName=name, UsernameAttributes=["email"], AutoVerifiedAttributes=["email"]
    )["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName="back-office",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    for role in Role:
        cognito.create_group(UserPoolId=pool, GroupName=role.value)
    for email, password, group in LOCAL_STAFF:
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=pool, Username=email, Password=password, Permanent=True
        )
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    return StaffPool(user_pool_id=pool, client_id=client)


def provision(clients: Any, table_name: str, parameter_overrides: dict[str, str]) -> Provisioned:
    """Create everything; ``clients(service)`` returns a boto3 client."""
    provisioned = Provisioned(table_name=table_name, bus_name=definitions.EVENT_BUS)
    create_table(clients("dynamodb"), table_name)
    create_queues(clients("sqs"), provisioned)
    create_bus_and_rules(clients("events"), provisioned)
    create_invoice_bucket(clients("s3"), provisioned.invoice_bucket)
    provisioned.parameters = create_parameters(clients("ssm"), parameter_overrides)
    return provisioned


def create_queue(sqs: Any, name: str, *, fifo: bool, visibility_timeout: int = 180) -> str:
    """A single queue (tests that need one queue without the whole set); its URL."""
    attributes = {"VisibilityTimeout": str(visibility_timeout)}
    if fifo:
        attributes["FifoQueue"] = "true"
    return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
