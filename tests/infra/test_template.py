"""The synthesised templates hold what the definitions promise.

Every expectation is read from infrastructure/definitions.py or
chalicelib/store/schema.py, the sources both the deployment and the local
stack use, so a change there must show up here.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.store import schema
from infrastructure import definitions
from infrastructure.access import API_HANDLER, FUNCTIONS
from infrastructure.stack import construct_id
from tests.infra.conftest import Synthesis

pytestmark = pytest.mark.infra

DATA_SERVICES = ("dynamodb", "sqs", "ses", "events", "secretsmanager", "ssm", "cognito-idp")


def only(resources: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.items()))


def functions_by_handler(synthesis: Synthesis, stage: str) -> dict[str, dict[str, Any]]:
    """The stage's SAM functions keyed by Chalice handler name."""
    found = {}
    for resource in synthesis.resources(stage, "AWS::Serverless::Function").values():
        properties = resource["Properties"]
        handler = properties["FunctionName"].removeprefix(f"shop-orders-{stage}-")
        found[handler] = properties
    return found


def queue_logical_id(synthesis: Synthesis, stage: str, queue_name: str) -> str:
    logical_id, _ = only(
        {
            key: value
            for key, value in synthesis.resources(stage, "AWS::SQS::Queue").items()
            if value["Properties"]["QueueName"] == f"shop-orders-{stage}-{queue_name}"
        }
    )
    return logical_id


# --- table -------------------------------------------------------------------


def test_table_has_the_schema_keys_and_sparse_indexes(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        _, table = only(synthesis.resources(stage, "AWS::DynamoDB::Table"))
        properties = table["Properties"]
        # The same request the local stack sends to moto: one source.
        local = schema.create_table_request("unused")
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["KeySchema"] == local["KeySchema"]
        assert sorted(properties["AttributeDefinitions"], key=str) == sorted(
            local["AttributeDefinitions"], key=str
        )
        deployed = {index["IndexName"]: index for index in properties["GlobalSecondaryIndexes"]}
        assert set(deployed) == {index.name for index in schema.INDEXES}
        for index in local["GlobalSecondaryIndexes"]:
            assert deployed[index["IndexName"]]["KeySchema"] == index["KeySchema"]
            assert deployed[index["IndexName"]]["Projection"] == index["Projection"]


def test_table_streams_new_images_expires_items_and_keeps_backups(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        _, table = only(synthesis.resources(stage, "AWS::DynamoDB::Table"))
        properties = table["Properties"]
        assert properties["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
        assert properties["TimeToLiveSpecification"] == {
            "AttributeName": schema.TTL_ATTRIBUTE,
            "Enabled": True,
        }
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_only_prod_data_is_protected_from_deletion(contract: Synthesis) -> None:
    for stage, settings in definitions.STAGES.items():
        _, table = only(contract.resources(stage, "AWS::DynamoDB::Table"))
        assert table["Properties"].get("DeletionProtectionEnabled", False) is settings.protect_data
        expected_policy = "Retain" if settings.protect_data else "Delete"
        assert table["DeletionPolicy"] == expected_policy
    assert definitions.STAGES["prod"].protect_data


# --- queues, rules, bus ---------------------------------------------------------


def test_every_queue_has_a_dead_letter_queue(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        queues = synthesis.resources(stage, "AWS::SQS::Queue")
        for spec in definitions.QUEUES:
            queue = queues[queue_logical_id(synthesis, stage, spec.queue_name)]["Properties"]
            redrive = queue["RedrivePolicy"]
            assert redrive["maxReceiveCount"] == spec.max_receive_count
            dlq_id = queue_logical_id(synthesis, stage, spec.dlq_name)
            assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
            assert queue.get("FifoQueue", False) is spec.fifo
            assert queues[dlq_id]["Properties"].get("FifoQueue", False) is spec.fifo


def test_visibility_timeout_is_six_times_the_consumers_timeout(contract: Synthesis) -> None:
    for stage in contract.templates:
        functions = functions_by_handler(contract, stage)
        queues = contract.resources(stage, "AWS::SQS::Queue")
        for spec in definitions.QUEUES:
            queue = queues[queue_logical_id(contract, stage, spec.queue_name)]["Properties"]
            if spec.consumer and spec.in_chalice_app:  # the others: tests/infra/test_documents.py
                timeout = functions[spec.consumer]["Timeout"]
                assert queue["VisibilityTimeout"] == 6 * timeout


def test_every_sqs_mapping_reports_batch_item_failures(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        for properties in functions_by_handler(synthesis, stage).values():
            for event in properties.get("Events", {}).values():
                if event["Type"] in ("SQS", "DynamoDB"):
                    assert event["Properties"]["FunctionResponseTypes"] == [
                        "ReportBatchItemFailures"
                    ]
        for mapping in synthesis.resources(stage, "AWS::Lambda::EventSourceMapping").values():
            assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_each_consumer_reads_its_own_queue(contract: Synthesis) -> None:
    for stage in contract.templates:
        functions = functions_by_handler(contract, stage)
        for spec in definitions.QUEUES:
            if not spec.consumer or not spec.in_chalice_app:
                continue  # a function of its own: tests/infra/test_documents.py
            events = [e for e in functions[spec.consumer]["Events"].values() if e["Type"] == "SQS"]
            assert len(events) == 1
            queue_id = queue_logical_id(contract, stage, spec.queue_name)
            assert events[0]["Properties"]["Queue"] == {"Fn::GetAtt": [queue_id, "Arn"]}
            assert events[0]["Properties"]["BatchSize"] == spec.batch_size


def test_the_publisher_reads_the_table_stream(contract: Synthesis) -> None:
    for stage in contract.templates:
        table_id, _ = only(contract.resources(stage, "AWS::DynamoDB::Table"))
        publisher = functions_by_handler(contract, stage)["publish_order_events"]
        (event,) = publisher["Events"].values()
        assert event["Type"] == "DynamoDB"
        assert event["Properties"]["Stream"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
        assert event["Properties"]["StartingPosition"] == "TRIM_HORIZON"
        assert "OnFailure" in event["Properties"]["DestinationConfig"]


def test_schedules_run_at_the_defined_rates(contract: Synthesis) -> None:
    for stage in contract.templates:
        functions = functions_by_handler(contract, stage)
        for schedule in definitions.SCHEDULES:
            (event,) = functions[schedule.handler]["Events"].values()
            assert event == {
                "Type": "Schedule",
                "Properties": {"Schedule": f"rate({schedule.every_minutes} minutes)"},
            }


def test_rules_route_from_the_custom_bus_to_their_queues(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        bus_id, bus = only(synthesis.resources(stage, "AWS::Events::EventBus"))
        assert bus["Properties"]["Name"] == f"{definitions.EVENT_BUS}-{stage}"
        rules = synthesis.resources(stage, "AWS::Events::Rule")
        assert len(rules) == len(definitions.RULES)
        for spec in definitions.RULES:
            rule = next(
                r["Properties"]
                for key, r in rules.items()
                if key.startswith(construct_id(spec.name))
            )
            assert rule["EventBusName"] == {"Ref": bus_id}
            assert rule["EventPattern"] == spec.pattern
            (target,) = rule["Targets"]
            queue_id = queue_logical_id(synthesis, stage, spec.queue)
            assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
            assert "DeadLetterConfig" in target


# --- email, secrets, settings ------------------------------------------------


def test_email_identity_and_configuration_set_exist(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        _, identity = only(synthesis.resources(stage, "AWS::SES::EmailIdentity"))
        assert identity["Properties"]["EmailIdentity"] == definitions.STAGES[stage].sender_email
        _, config_set = only(synthesis.resources(stage, "AWS::SES::ConfigurationSet"))
        assert config_set["Properties"]["Name"] == f"shop-orders-{stage}"


def test_every_parameter_is_a_secret_the_functions_are_told_about(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        secrets = synthesis.resources(stage, "AWS::SecretsManager::Secret")
        names = {secret["Properties"]["Name"] for secret in secrets.values()}
        for parameter in definitions.PARAMETERS:
            name = parameter.name.format(stage=stage).lstrip("/")
            assert name in names
            for properties in functions_by_handler(synthesis, stage).values():
                variables = properties["Environment"]["Variables"]
                assert variables[parameter.env] == f"/aws/reference/secretsmanager/{name}"


def test_the_back_office_has_a_user_pool_with_a_group_per_role(synthesis: Synthesis) -> None:
    from chalicelib.domain.staff import Role

    for stage in synthesis.templates:
        pool_id, pool = only(synthesis.resources(stage, "AWS::Cognito::UserPool"))
        assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
        assert pool["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
        groups = synthesis.resources(stage, "AWS::Cognito::UserPoolGroup").values()
        assert {g["Properties"]["GroupName"] for g in groups} == {r.value for r in Role}
        client_id, client = only(synthesis.resources(stage, "AWS::Cognito::UserPoolClient"))
        assert client["Properties"]["GenerateSecret"] is False
        assert "ALLOW_USER_PASSWORD_AUTH" in client["Properties"]["ExplicitAuthFlows"]
        api = functions_by_handler(synthesis, stage)[API_HANDLER]["Environment"]["Variables"]
        assert api["SHOP_STAFF_USER_POOL_ID"] == {"Ref": pool_id}
        assert api["SHOP_STAFF_USER_POOL_CLIENT_ID"] == {"Ref": client_id}


def test_every_function_runs_on_python_3_13(synthesis: Synthesis) -> None:
    # chalice takes the runtime from the Python that packages the app, and the
    # package's bytecode is that Python's (the test below): both are 3.13.
    for stage in synthesis.templates:
        functions = functions_by_handler(synthesis, stage)
        assert functions
        for handler, properties in functions.items():
            assert properties["Runtime"] == "python3.13", handler


def test_functions_get_the_stage_settings(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        table_id, _ = only(synthesis.resources(stage, "AWS::DynamoDB::Table"))
        bus_id, _ = only(synthesis.resources(stage, "AWS::Events::EventBus"))
        for properties in functions_by_handler(synthesis, stage).values():
            variables = properties["Environment"]["Variables"]
            assert variables["SHOP_STAGE"] == stage
            assert variables["SHOP_TABLE_NAME"] == {"Ref": table_id}
            assert variables["SHOP_EVENT_BUS_NAME"] == {"Ref": bus_id}
            settings = definitions.STAGES[stage]
            assert (
                variables["SHOP_EMAIL_SENDER"] == f"{settings.shop_name} <{settings.sender_email}>"
            )
            assert variables["SHOP_DISPLAY_NAME"] == settings.shop_name
            # Payment windows come from .chalice/config.json's stage.
            assert int(variables["SHOP_PAYMENT_WINDOW_CARD_MINUTES"]) > 0


def test_the_api_is_named_and_throttled(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        _, api = only(synthesis.resources(stage, "AWS::Serverless::Api"))
        settings = definitions.STAGES[stage]
        assert api["Properties"]["Name"] == f"shop-orders-{stage}"
        (method,) = api["Properties"]["MethodSettings"]
        assert method["ThrottlingRateLimit"] == settings.api_rate_limit
        assert method["ThrottlingBurstLimit"] == settings.api_burst_limit


# --- alarms --------------------------------------------------------------------


def alarms(synthesis: Synthesis, stage: str) -> list[dict[str, Any]]:
    return [a["Properties"] for a in synthesis.resources(stage, "AWS::CloudWatch::Alarm").values()]


def test_every_alarm_notifies_the_alarm_topic(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        topic_id, _ = only(synthesis.resources(stage, "AWS::SNS::Topic"))
        found = alarms(synthesis, stage)
        assert found
        for alarm in found:
            assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_alarms_watch_dlqs_functions_api_and_the_sweep(contract: Synthesis) -> None:
    for stage in contract.templates:
        found = alarms(contract, stage)
        dlq_alarms = {
            a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
            for a in found
            if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
        }
        for spec in definitions.QUEUES:
            assert queue_logical_id(contract, stage, spec.dlq_name) in dlq_alarms
        for alarm in found:
            if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible":
                # One message in a DLQ is already one too many.
                assert alarm["Threshold"] == 0
                assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        for handler in functions_by_handler(contract, stage):
            for metric in ("Errors", "Throttles"):
                assert any(
                    a.get("MetricName") == metric
                    and a["Dimensions"]
                    == [{"Name": "FunctionName", "Value": f"shop-orders-{stage}-{handler}"}]
                    for a in found
                ), (handler, metric)
        assert any(a.get("MetricName") == "5XXError" for a in found)
        sweep = [a for a in found if "sweep" in a.get("AlarmDescription", "")]
        assert len(sweep) == 1
        assert sweep[0]["TreatMissingData"] == "breaching"


# --- IAM -------------------------------------------------------------------------


def allow_statements(synthesis: Synthesis, stage: str) -> list[tuple[str, dict[str, Any]]]:
    """Every Allow statement of every identity policy, with its owner's id."""
    found = []
    for logical_id, policy in synthesis.resources(stage, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            found.append((logical_id, statement))
    for logical_id, role in synthesis.resources(stage, "AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            for statement in inline["PolicyDocument"]["Statement"]:
                found.append((logical_id, statement))
    for logical_id, policy in synthesis.resources(stage, "AWS::IAM::ManagedPolicy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            found.append((logical_id, statement))
    return [(owner, s) for owner, s in found if s["Effect"] == "Allow"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_policy_grants_wildcards_on_data_services(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        statements = allow_statements(synthesis, stage)
        assert statements
        for owner, statement in statements:
            actions = as_list(statement["Action"])
            on_data = [a for a in actions if a == "*" or a.split(":")[0] in DATA_SERVICES]
            if not on_data:
                continue
            assert not [a for a in on_data if "*" in a], (owner, actions)
            for resource in as_list(statement["Resource"]):
                assert resource != "*", (owner, actions)
                assert not (isinstance(resource, str) and "*" in resource), (owner, resource)


def test_every_function_is_known_to_the_access_table(synthesis: Synthesis) -> None:
    # A handler missing there would run with no data access at all.
    for stage in synthesis.templates:
        assert set(functions_by_handler(synthesis, stage)) <= set(FUNCTIONS)


def test_every_function_has_a_role_of_its_own(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        roles = [
            properties["Role"]["Fn::GetAtt"][0]
            for properties in functions_by_handler(synthesis, stage).values()
        ]
        assert len(roles) == len(set(roles))


def actions_of(synthesis: Synthesis, stage: str, handler: str) -> set[str]:
    role_id = functions_by_handler(synthesis, stage)[handler]["Role"]["Fn::GetAtt"][0]
    actions: set[str] = set()
    for owner, statement in allow_statements(synthesis, stage):
        policy = synthesis.templates[stage]["Resources"][owner]["Properties"]
        if {"Ref": role_id} in policy.get("Roles", []):
            actions |= set(as_list(statement["Action"]))
    return actions


def test_roles_hold_only_what_their_function_uses(synthesis: Synthesis) -> None:
    logs = {"logs:CreateLogStream", "logs:PutLogEvents"}
    for stage in synthesis.templates:
        present = functions_by_handler(synthesis, stage)
        if "admin_key_authorizer" in present:
            assert actions_of(synthesis, stage, "admin_key_authorizer") == logs | {
                "secretsmanager:GetSecretValue",
                "ssm:GetParameter",
            }
        if "publish_order_events" in present:
            publisher = actions_of(synthesis, stage, "publish_order_events")
            assert "events:PutEvents" in publisher
            assert {a for a in publisher if a.startswith("dynamodb:")} == {
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            }
        if "send_notifications" in present:
            assert "ses:SendEmail" in actions_of(synthesis, stage, "send_notifications")
        # Only the API signs the back office's users out at Cognito.
        for handler in present:
            signs_out = "cognito-idp:AdminUserGlobalSignOut" in actions_of(
                synthesis, stage, handler
            )
            assert signs_out == (handler == API_HANDLER), handler
        for handler in ("expire_unpaid_orders", API_HANDLER):
            if handler in present:
                actions = actions_of(synthesis, stage, handler)
                assert "dynamodb:UpdateItem" in actions
                assert not {a for a in actions if a.startswith("ses:")}


def test_gateway_answers_carry_our_error_body_and_request_id(synthesis: Synthesis) -> None:
    _, api = only(synthesis.resources("dev", "AWS::Serverless::Api"))
    responses = api["Properties"]["GatewayResponses"]
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "MISSING_AUTHENTICATION_TOKEN", "DEFAULT_5XX"} <= set(
        responses
    )
    for response in responses.values():
        assert (
            '"request_id": "$context.requestId"'
            in response["ResponseTemplates"]["application/json"]
        )
        assert response["ResponseParameters"]["Headers"]["X-Request-Id"] == "context.requestId"


# --- the package ---------------------------------------------------------------


def test_the_deployed_package_ships_our_code_compiled(synthesis: Synthesis) -> None:
    """infrastructure/bytecode.py runs inside the construct, before the zip
    becomes the functions' code asset (a cold start compiles nothing of ours)."""
    import zipfile

    from infrastructure.bytecode import GENERATED, is_ours, ours_without_bytecode

    (package,) = [
        path
        for path in synthesis.assembly.glob("asset.*.zip")
        if "app.py" in zipfile.ZipFile(path).namelist()
    ]
    names = set(zipfile.ZipFile(package).namelist())

    assert any(n.endswith(".py") and is_ours(n) for n in names)
    assert ours_without_bytecode(names) == []
    assert not any(n.startswith("dns/") for n in names)
    # The bytecode is Python 3.13's (magic number 3571), the functions'
    # runtime: another version's would be ignored (ours) or refused (the
    # libraries').
    compiled = sorted(n for n in names if n.endswith(".pyc"))
    # Generated modules (the compiled templates) ship as bytecode only.
    generated = tuple(GENERATED.values())
    assert all(".cpython-313." in n for n in compiled if is_ours(n) and not n.startswith(generated))
    with zipfile.ZipFile(package) as z:
        magic = {z.read(n)[:4] for n in compiled[:: max(1, len(compiled) // 50)]}
    assert magic == {(3571).to_bytes(2, "little") + b"\r\n"}


def test_the_deployed_package_ships_the_email_templates_compiled(
    syntheses: dict[str, Synthesis],
) -> None:
    """The construct's packaging compiles every email template and subject
    of the project to a module (chalicelib/notify/precompile.py), shipped as
    bytecode."""
    import json
    import zipfile
    from hashlib import sha1

    if "project" not in syntheses:
        pytest.skip("app.py does not exist yet")
    synthesis = syntheses["project"]
    (package,) = [
        path
        for path in synthesis.assembly.glob("asset.*.zip")
        if "app.py" in zipfile.ZipFile(path).namelist()
    ]
    names = set(zipfile.ZipFile(package).namelist())
    templates = sorted(
        n.removeprefix("chalicelib/notify/templates/")
        for n in names
        if n.startswith("chalicelib/notify/templates/") and not n.endswith("/")
    )
    compiled = "chalicelib/notify/templates_compiled/"
    with zipfile.ZipFile(package) as z:
        manifest = json.loads(z.read(f"{compiled}manifest.json"))

    assert templates and sorted(manifest["templates"]) == templates
    assert manifest["strings"]  # the subjects
    for name in [*templates, *manifest["strings"]]:
        assert f"{compiled}tmpl_{sha1(name.encode()).hexdigest()}.pyc" in names, name
