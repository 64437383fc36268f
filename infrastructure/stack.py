"""One deployed stage: the Chalice app (functions and REST API, through
chalice's CDK construct) and every resource around it, declared from
infrastructure/definitions.py and chalicelib/store/schema.py.

Chalice cannot express everything the app needs (a custom event bus, partial
batch responses, a stream ARN that exists only after deploy, per-function
roles), so after the construct has packaged the app this stack rebinds the
generated SAM functions: their roles, names, event sources and schedules.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import (
    Acknowledgment,
    Annotations,
    CfnOutput,
    Duration,
    RemovalPolicy,
    SecretValue,
    Stack,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from chalice.cdk import Chalice
from chalice.package import to_cfn_resource_name
from constructs import Construct

from chalicelib.domain.archive import RETENTION_YEARS
from chalicelib.store import schema
from infrastructure import definitions
from infrastructure.access import API_HANDLER, FUNCTIONS, Access, access_of
from infrastructure.bytecode import add_bytecode, package_runtime
from infrastructure.documents_package import build_package

#: Chalice needs some role ARN when it does not manage roles; every function's
#: Role is replaced by its own role below, so this never reaches AWS.
PLACEHOLDER_ROLE_ARN = "arn:aws:iam::000000000000:role/replaced-by-cdk"

#: The repository: the functions outside the Chalice app are built from it
#: (their code and requirements), whichever Chalice project is packaged.
REPO_ROOT = Path(__file__).resolve().parent.parent
#: Where their installed requirements are kept between synths (by digest).
REQUIREMENTS_CACHE = REPO_ROOT / "build" / "own-functions"

#: API 5xx answers above this share of requests (5 minute average) alarm.
API_5XX_RATE_THRESHOLD = 0.05
#: How long a failed stream batch is retried before its position goes to the
#: undelivered queue (from which an operator replays it within the stream's
#: 24 hour retention).
STREAM_MAX_RETRIES = 10


class BindingError(ValueError):
    """app.py registered a handler in a way the definitions cannot bind."""


class ChaliceApp(Chalice):
    """chalice's construct, shipping compiled bytecode (infrastructure/bytecode.py).

    The bytecode goes into deployment.zip right after chalice has packaged
    it and before the construct makes the zip an asset (which fingerprints
    it). ``_package_app`` is the construct's own packaging step; chalice is
    pinned, and tests/infra check the asset really carries the bytecode.
    """

    def _package_app(self) -> None:
        super()._package_app()  # type: ignore[misc]
        package_dir = Path(self._sam_package_dir)
        add_bytecode(package_dir / "deployment.zip", package_runtime(package_dir / "sam.json"))


@dataclass(frozen=True)
class Function:
    """A function chalice generated, as found in its SAM template."""

    logical_id: str
    handler: str  # the Chalice handler name, e.g. "send_notifications"
    properties: dict[str, Any]


def chalice_config(source_dir: str) -> dict[str, Any]:
    """The app's .chalice/config.json."""
    with open(os.path.join(source_dir, ".chalice", "config.json")) as f:
        return dict(json.load(f))


def construct_id(name: str) -> str:
    """``payment-events`` -> ``PaymentEvents``: a readable logical id part."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def handler_name(logical_id: str, sam_handler: str) -> str:
    """The Chalice name of a function chalice generated.

    A handler's logical id is chalice's CamelCase of its name, whether the
    name was given with ``name=`` or taken from the function; known handlers
    are matched that way. Others fall back to the function in the SAM
    ``Handler`` (``app.<name>``, or ``<module>.<name>`` for blueprints); the
    REST API's is ``app.app``.
    """
    if sam_handler == "app.app":
        return API_HANDLER
    known = set(FUNCTIONS) | {q.consumer for q in definitions.QUEUES if q.consumer}
    known |= {s.handler for s in definitions.SCHEDULES}
    by_logical_id = {to_cfn_resource_name(name): name for name in known}
    return by_logical_id.get(logical_id, sam_handler.rsplit(".", 1)[-1])


class OrdersStack(Stack):
    """Everything one stage (dev, prod) of the order backend runs on."""

    def __init__(
        self, scope: Construct, stage: definitions.Stage, source_dir: str, **kwargs: Any
    ) -> None:
        app_name = chalice_config(source_dir)["app_name"]
        # The construct id must be the stage name: chalice's construct takes
        # the Chalice stage from its scope's path.
        super().__init__(scope, stage.name, stack_name=f"{app_name}-{stage.name}", **kwargs)
        self.stage = stage
        self.prefix = f"{app_name}-{stage.name}"
        self.removal_policy = RemovalPolicy.RETAIN if stage.protect_data else RemovalPolicy.DESTROY

        self.table = self._table()
        self.bus = events.EventBus(
            self, "Bus", event_bus_name=f"{definitions.EVENT_BUS}-{stage.name}"
        )
        # Where EventBridge puts events it could not deliver to a queue, and
        # the stream handler the positions of batches it gave up on.
        self.undelivered = sqs.Queue(
            self,
            "UndeliveredDlq",
            queue_name=f"{self.prefix}-undelivered-dlq",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.queues, self.dlqs = self._queues()
        self.documents_bucket = self._documents_bucket()
        self._rules()
        self.config_set, self.sender_identity_arn = self._email()
        self.secrets = self._secrets()
        self.alarm_topic = self._alarm_topic()
        self.staff_pool, self.staff_client = self._staff_pool()

        self.chalice = ChaliceApp(
            self,
            "ChaliceApp",
            source_dir=source_dir,
            stage_config={
                "environment_variables": self._environment(),
                "manage_iam_role": False,
                "iam_role_arn": PLACEHOLDER_ROLE_ARN,
            },
        )
        self.functions = self._functions()
        self._bind_functions()
        self.own_functions = self._own_functions(source_dir)
        self._alarms()
        self._suppressions()

        CfnOutput(self, "TableName", value=self.table.table_name)
        CfnOutput(self, "EventBusName", value=self.bus.event_bus_name)
        CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
        CfnOutput(self, "StaffUserPoolId", value=self.staff_pool.user_pool_id)
        CfnOutput(self, "InvoiceBucketName", value=self.documents_bucket.bucket_name)

    # --- data, messaging, email, secrets -----------------------------------

    def _table(self) -> dynamodb.Table:
        string = dynamodb.AttributeType.STRING
        table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=schema.PARTITION_KEY, type=string),
            sort_key=dynamodb.Attribute(name=schema.SORT_KEY, type=string),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            # The outbox: the publisher turns new history entries into events.
            stream=dynamodb.StreamViewType.NEW_IMAGE,
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=self.stage.protect_data,
            removal_policy=self.removal_policy,
        )
        for index in schema.INDEXES:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=dynamodb.Attribute(name=index.partition_key, type=string),
                sort_key=dynamodb.Attribute(name=index.sort_key, type=string),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    def _queues(self) -> tuple[dict[str, sqs.Queue], dict[str, sqs.Queue]]:
        queues: dict[str, sqs.Queue] = {}
        dlqs: dict[str, sqs.Queue] = {}
        for spec in definitions.QUEUES:
            cid = construct_id(spec.name)
            fifo = True if spec.fifo else None
            dlq = sqs.Queue(
                self,
                f"{cid}Dlq",
                queue_name=f"{self.prefix}-{spec.dlq_name}",
                fifo=fifo,
                retention_period=Duration.days(14),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
            )
            queues[spec.name] = sqs.Queue(
                self,
                f"{cid}Queue",
                queue_name=f"{self.prefix}-{spec.queue_name}",
                fifo=fifo,
                # A sender without its own deduplication id still gets
                # exactly-once enqueueing within the five minute window.
                content_based_deduplication=fifo,
                visibility_timeout=Duration.seconds(spec.visibility_timeout),
                retention_period=Duration.days(4),
                dead_letter_queue=sqs.DeadLetterQueue(
                    max_receive_count=spec.max_receive_count, queue=dlq
                ),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
            )
            dlqs[spec.name] = dlq
        return queues, dlqs

    def _documents_bucket(self) -> s3.Bucket:
        """The invoices bucket: every invoice's and credit note's PDF, kept
        unchangeable for section 147 AO's eight years (docs/invoices.md).

        Versioned with Object Lock in compliance mode: no one, the root user
        included, can overwrite, delete or shorten the lock of an object
        version before its retention ends. Each PDF is put with its own
        retain-until date (the end of its period, chalicelib/domain/archive.py);
        the default retention of eight years from the upload is the floor for
        any object put without one. Retained whatever the stage's removal
        policy: locked objects cannot be deleted, so neither can the bucket.
        Access is logged to a bucket of its own (who read which invoice).
        """
        logs_bucket = s3.Bucket(
            self,
            "InvoicesAccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(400))],
            removal_policy=self.removal_policy,
        )
        Validations.of(logs_bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-S1",
                reason=(
                    "This bucket is itself the destination of the invoices bucket's "
                    "server access logs; logging it again would log the logging."
                ),
            )
        )
        return s3.Bucket(
            self,
            "InvoicesBucket",
            versioned=True,
            object_lock_enabled=True,
            object_lock_default_retention=s3.ObjectLockRetention.compliance(
                Duration.days(365 * RETENTION_YEARS + RETENTION_YEARS // 4 + 1)
            ),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix="invoices/",
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _rules(self) -> None:
        specs = {q.name: q for q in definitions.QUEUES}
        for rule in definitions.RULES:
            pattern = rule.pattern
            if specs[rule.queue].fifo:
                # A rule gives every event one fixed message group, which
                # would serialise all orders behind each other.
                raise BindingError(
                    f"rule {rule.name} targets a FIFO queue; route to a standard one"
                )
            events.Rule(
                self,
                f"{construct_id(rule.name)}Rule",
                rule_name=f"{self.prefix}-{rule.name}",
                # chalice's on_cw_event can only listen on the default bus.
                event_bus=self.bus,
                event_pattern=events.EventPattern(
                    source=list(pattern["source"]),  # type: ignore[call-overload]
                    detail_type=list(pattern["detail-type"])  # type: ignore[call-overload]
                    if "detail-type" in pattern
                    else None,
                ),
                targets=[
                    targets.SqsQueue(
                        self.queues[rule.queue],
                        dead_letter_queue=self.undelivered,
                        retry_attempts=185,
                        max_event_age=Duration.hours(24),
                    )
                ],
            )

    def _email(self) -> tuple[ses.ConfigurationSet, str]:
        config_set = ses.ConfigurationSet(
            self,
            "EmailConfigurationSet",
            configuration_set_name=self.prefix,
            reputation_metrics=True,
            sending_enabled=True,
            # Never mail an address again that bounced or complained.
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        ses.EmailIdentity(
            self,
            "SenderIdentity",
            identity=ses.Identity.email(self.stage.sender_email),
            configuration_set=config_set,
        )
        identity_arn = self.format_arn(
            service="ses", resource="identity", resource_name=self.stage.sender_email
        )
        return config_set, identity_arn

    def _secrets(self) -> dict[str, secretsmanager.Secret]:
        """One Secrets Manager secret per definitions parameter.

        CloudFormation cannot create SSM SecureString parameters, so the
        secrets live in Secrets Manager and the app reads them through SSM's
        reference path (/aws/reference/secretsmanager/...). The app's code
        is then the same GetParameter call locally (a real SecureString on
        the embedded stack) and deployed.
        """
        secrets: dict[str, secretsmanager.Secret] = {}
        for parameter in definitions.PARAMETERS:
            name = self._secret_name(parameter)
            if parameter is definitions.ADMIN_KEY_HASHES:
                # An empty list of hashes: no admin key works until the
                # operator puts the hashes of real keys (README). Not secret.
                value: dict[str, Any] = {
                    "secret_string_value": SecretValue.unsafe_plain_text("[]"),
                }
            else:
                # Random until the operator puts the provider's secret, so a
                # fresh deploy never accepts callbacks signed with a known key.
                value = {
                    "generate_secret_string": secretsmanager.SecretStringGenerator(
                        password_length=48, exclude_punctuation=True
                    )
                }
            secrets[parameter.env] = secretsmanager.Secret(
                self,
                f"{construct_id(parameter.env.removeprefix('SHOP_'))}Secret",
                secret_name=name,
                description=parameter.description,
                removal_policy=self.removal_policy,
                **value,
            )
        return secrets

    def _staff_pool(self) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        """The back office's users (docs/back-office.md): no self sign-up (the
        owner adds people), a group per role, and the app client the API
        function signs them in with, server to server (USER_PASSWORD_AUTH)."""
        from chalicelib.domain.staff import Role

        pool = cognito.UserPool(
            self,
            "StaffUserPool",
            user_pool_name=f"{self.prefix}-staff",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            # Threat protection: compromised-credential checks and adaptive
            # blocking of suspicious sign-ins (a few staff users: cents a month).
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            removal_policy=self.removal_policy,
        )
        Validations.of(pool).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-COG2",
                reason=(
                    "MFA is the back office's next step: its server-side sign-in does not "
                    "answer Cognito's challenges yet (docs/back-office.md). Until then the "
                    "few staff users have 12-character passwords under the Plus plan's "
                    "threat protection, and sessions end after 30 idle minutes."
                ),
            )
        )
        for role in Role:
            cognito.CfnUserPoolGroup(
                self,
                f"StaffGroup{role.value.capitalize()}",
                user_pool_id=pool.user_pool_id,
                group_name=role.value,
                description=f"back office role: {role.value} (chalicelib/domain/staff.py)",
            )
        client = pool.add_client(
            "BackOfficeClient",
            user_pool_client_name=f"{self.prefix}-back-office",
            auth_flows=cognito.AuthFlow(user_password=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            # Our session outlives nothing of Cognito's: the tokens are read
            # once at sign-in and not kept.
            id_token_validity=Duration.minutes(5),
            access_token_validity=Duration.minutes(5),
            refresh_token_validity=Duration.minutes(60),
        )
        return pool, client

    def _secret_name(self, parameter: definitions.Parameter) -> str:
        return parameter.name.format(stage=self.stage.name).lstrip("/")

    def _alarm_topic(self) -> sns.Topic:
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"Encrypts the {self.prefix} alarm topic",
            enable_key_rotation=True,
            removal_policy=self.removal_policy,
        )
        # CloudWatch publishes alarms to the encrypted topic with this key.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=f"{self.prefix}-alarms",
            master_key=key,
            enforce_ssl=True,
        )
        if self.stage.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(self.stage.alarm_email))
        return topic

    def _environment(self) -> dict[str, str]:
        """The SHOP_* settings every function reads (chalicelib/config.py)."""
        environment = {
            "SHOP_TABLE_NAME": self.table.table_name,
            "SHOP_EVENT_BUS_NAME": self.bus.event_bus_name,
            # chalicelib/config.py: email_sender ("Name <address>"), display_name
            "SHOP_EMAIL_SENDER": f"{self.stage.shop_name} <{self.stage.sender_email}>",
            "SHOP_DISPLAY_NAME": self.stage.shop_name,
            "SHOP_SES_CONFIGURATION_SET": self.config_set.configuration_set_name,
            "SHOP_STAFF_USER_POOL_ID": self.staff_pool.user_pool_id,
            "SHOP_STAFF_USER_POOL_CLIENT_ID": self.staff_client.user_pool_client_id,
            "SHOP_INVOICE_BUCKET": self.documents_bucket.bucket_name,
        }
        for spec in definitions.QUEUES:
            key = f"SHOP_{spec.name.upper().replace('-', '_')}_QUEUE_URL"
            environment[key] = self.queues[spec.name].queue_url
        for parameter in definitions.PARAMETERS:
            environment[parameter.env] = (
                f"/aws/reference/secretsmanager/{self._secret_name(parameter)}"
            )
        return environment

    # --- the functions chalice generated ------------------------------------

    def _functions(self) -> list[Function]:
        # The construct keeps the packaged SAM template next to the zip; it
        # is the only record of what app.py registered (chalice pinned).
        path = os.path.join(self.chalice._sam_package_dir, "sam.json")
        with open(path) as f:
            template = json.load(f)
        return [
            Function(
                logical_id,
                handler_name(logical_id, resource["Properties"]["Handler"]),
                resource["Properties"],
            )
            for logical_id, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Serverless::Function"
        ]

    def _bind_functions(self) -> None:
        for function in self.functions:
            cfn = self.chalice.get_resource(function.logical_id)
            name = self.function_name(function.handler)
            cfn.add_property_override("FunctionName", name)

            log_group = logs.LogGroup(
                self,
                f"{function.logical_id}Logs",
                log_group_name=f"/aws/lambda/{name}",
                retention=_retention(self.stage.log_retention_days),
                removal_policy=self.removal_policy,
            )
            # Created before the function, so Lambda never creates it itself
            # (without retention) on an early invocation.
            cfn.node.add_dependency(log_group)

            role = self._role(function, log_group)
            cfn.add_property_override("Role", role.role_arn)
            # With its policy in place first: creating an event source
            # mapping checks that the role may already read the source. (The
            # role itself is a dependency through the Role reference.)
            cfn.node.add_dependency(role.node.find_child("DefaultPolicy"))

            for event_name, event in function.properties.get("Events", {}).items():
                path = f"Events.{event_name}.Properties"
                if event["Type"] == "SQS":
                    self._bind_queue(function, cfn, path, event["Properties"])
                elif event["Type"] == "DynamoDB":
                    self._bind_stream(cfn, path)
                elif event["Type"] == "Schedule":
                    self._bind_schedule(function, cfn, path)

        registered = {f.handler for f in self.functions}
        expected = {q.consumer for q in definitions.QUEUES if q.consumer and q.in_chalice_app}
        expected |= {s.handler for s in definitions.SCHEDULES}
        for missing in sorted(expected - registered):
            # app.py grows handler by handler; a missing one is worth a
            # warning in every synth, not a failed build.
            Annotations.of(self).add_warning_v2(
                "shop:missing-handler",
                f"definitions.py names handler {missing!r}, which app.py does not register",
            )

    def function_name(self, handler: str) -> str:
        """The Lambda function name of a Chalice handler in this stage."""
        name = f"{self.prefix}-{handler}"
        if len(name) > 64:
            raise BindingError(f"function name {name!r} exceeds Lambda's 64 characters")
        return name

    def _own_functions(self, source_dir: str) -> list[lambda_.Function]:
        """The functions outside the Chalice app (definitions.OWN_FUNCTIONS),
        each with the package built for it at synth (documents_package.py),
        its own role and log group, and its queue's event source."""
        config = chalice_config(source_dir)
        environment = {
            **config.get("environment_variables", {}),
            **config["stages"][self.stage.name].get("environment_variables", {}),
            **self._environment(),
        }
        packages = Path(self.chalice._sam_package_dir).parent / "own-functions"
        created = []
        for spec in definitions.OWN_FUNCTIONS:
            queue = next(q for q in definitions.QUEUES if q.consumer == spec.name)
            cid = construct_id(spec.name)
            name = self.function_name(spec.name)
            log_group = logs.LogGroup(
                self,
                f"{cid}Logs",
                log_group_name=f"/aws/lambda/{name}",
                retention=_retention(self.stage.log_retention_days),
                removal_policy=self.removal_policy,
            )
            role = self._own_role(spec.name, cid, log_group)
            function = lambda_.Function(
                self,
                f"{cid}Function",
                function_name=name,
                runtime=lambda_.Runtime.PYTHON_3_13,
                architecture=lambda_.Architecture.X86_64,
                handler=spec.handler,
                code=lambda_.Code.from_asset(
                    str(build_package(spec, REPO_ROOT, packages, REQUIREMENTS_CACHE))
                ),
                memory_size=spec.memory_mb,
                timeout=Duration.seconds(queue.consumer_timeout),
                role=role,
                environment=environment,
                log_group=log_group,
            )
            # CDK makes the function depend on its role and the role's policy;
            # the role is already a dependency through the Role attribute
            # (cfn-lint W3005), the policy must stay one (the mapping checks it).
            cfn_function: Any = function.node.default_child
            policy: Any = role.node.find_child("DefaultPolicy").node.default_child
            cfn_function.add_override("DependsOn", [self.get_logical_id(policy)])
            function.add_event_source(
                event_sources.SqsEventSource(
                    self.queues[queue.name],
                    batch_size=queue.batch_size,
                    report_batch_item_failures=True,
                )
            )
            created.append(function)
        return created

    def _own_role(self, handler: str, cid: str, log_group: logs.LogGroup) -> iam.Role:
        role = iam.Role(
            self,
            f"{cid}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{self.prefix} {handler}: only what this function uses",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        for statement in self._statements(access_of(handler)):
            role.add_to_policy(statement)
        self._acknowledge_documents(role, access_of(handler))
        return role

    def _acknowledge_documents(self, role: iam.Role, access: Access) -> None:
        """The one wildcard of a role's policy: the invoices bucket's objects."""
        if not (access.read_documents or access.write_documents):
            return
        bucket = self.get_logical_id(self.documents_bucket.node.default_child)  # type: ignore[arg-type]
        Validations.of(role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",
                reason=(
                    "The objects of the invoices bucket, one per document number: the keys "
                    "are made of numbers issued at run time, so no fixed ARN can name them. "
                    "The bucket holds nothing else, and the actions only read and put objects."
                ),
            )
        )

    def _bind_queue(
        self, function: Function, cfn: Any, path: str, properties: dict[str, Any]
    ) -> None:
        specs = [q for q in definitions.QUEUES if q.consumer == function.handler]
        if len(specs) != 1:
            raise BindingError(
                f"{function.handler} consumes an SQS queue, but definitions.QUEUES names it "
                f"consumer of {len(specs)} queues; it must name it exactly once"
            )
        spec = specs[0]
        registered = _queue_name(properties["Queue"])
        if registered != spec.queue_name:
            raise BindingError(
                f"app.py registers {function.handler} on queue {registered!r}, but "
                f"definitions.QUEUES says it consumes {spec.queue_name!r}"
            )
        cfn.add_property_override(f"{path}.Queue", self.queues[spec.name].queue_arn)
        cfn.add_property_override(f"{path}.BatchSize", spec.batch_size)
        # chalice cannot ask for partial batch responses; without them one
        # bad message makes the whole batch be retried.
        cfn.add_property_override(f"{path}.FunctionResponseTypes", ["ReportBatchItemFailures"])
        if spec.fifo:
            cfn.add_property_deletion_override(f"{path}.MaximumBatchingWindowInSeconds")
        # The visibility timeout is six times this (definitions.Queue).
        cfn.add_property_override("Timeout", spec.consumer_timeout)

    def _bind_stream(self, cfn: Any, path: str) -> None:
        # The stream's ARN exists only once the table does; app.py names a
        # placeholder.
        cfn.add_property_override(f"{path}.Stream", self.table.table_stream_arn)
        # An outbox must not skip what was written before the mapping existed.
        cfn.add_property_override(f"{path}.StartingPosition", "TRIM_HORIZON")
        cfn.add_property_override(f"{path}.FunctionResponseTypes", ["ReportBatchItemFailures"])
        cfn.add_property_override(f"{path}.BisectBatchOnFunctionError", True)
        cfn.add_property_override(f"{path}.MaximumRetryAttempts", STREAM_MAX_RETRIES)
        cfn.add_property_override(
            f"{path}.DestinationConfig",
            {"OnFailure": {"Type": "SQS", "Destination": self.undelivered.queue_arn}},
        )

    def _bind_schedule(self, function: Function, cfn: Any, path: str) -> None:
        specs = [s for s in definitions.SCHEDULES if s.handler == function.handler]
        if not specs:
            raise BindingError(
                f"app.py schedules {function.handler}, which definitions.SCHEDULES lacks"
            )
        # The rate is the definitions' (shared with the local stack's timers),
        # whatever app.py wrote.
        cfn.add_property_override(f"{path}.Schedule", f"rate({specs[0].every_minutes} minutes)")

    def _role(self, function: Function, log_group: logs.LogGroup) -> iam.Role:
        role = iam.Role(
            self,
            f"{function.logical_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{self.prefix} {function.handler}: only what this function uses",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        for statement in self._statements(access_of(function.handler)):
            role.add_to_policy(statement)
        self._acknowledge_documents(role, access_of(function.handler))
        if any(e["Type"] == "DynamoDB" for e in function.properties.get("Events", {}).values()):
            # The stream mapping's on-failure destination sends as this role.
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["sqs:SendMessage"], resources=[self.undelivered.queue_arn]
                )
            )
        return role

    def _statements(self, access: Access) -> list[iam.PolicyStatement]:
        """Explicit actions on explicit ARNs; never a wildcard on data."""
        table = self.table.table_arn
        indexes = [f"{table}/index/{index.name}" for index in schema.INDEXES]
        statements = []
        if access.read_table:
            statements.append(
                iam.PolicyStatement(
                    actions=[
                        "dynamodb:GetItem",
                        "dynamodb:BatchGetItem",
                        "dynamodb:Query",
                        "dynamodb:ConditionCheckItem",
                    ],
                    resources=[table, *indexes],
                )
            )
        if access.write_table:
            statements.append(
                iam.PolicyStatement(
                    actions=[
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:BatchWriteItem",
                        "dynamodb:ConditionCheckItem",
                    ],
                    resources=[table],
                )
            )
        if access.read_stream:
            statements.append(
                iam.PolicyStatement(
                    actions=[
                        "dynamodb:DescribeStream",
                        "dynamodb:GetRecords",
                        "dynamodb:GetShardIterator",
                        "dynamodb:ListStreams",
                    ],
                    resources=[self.table.table_stream_arn],  # type: ignore[list-item]
                )
            )
        if access.publish_events:
            statements.append(
                iam.PolicyStatement(
                    actions=["events:PutEvents"], resources=[self.bus.event_bus_arn]
                )
            )
        if access.consume_queues:
            statements.append(
                iam.PolicyStatement(
                    actions=[
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes",
                    ],
                    resources=[self.queues[name].queue_arn for name in access.consume_queues],
                )
            )
        if access.send_to_queues:
            statements.append(
                iam.PolicyStatement(
                    actions=["sqs:SendMessage"],
                    resources=[self.queues[name].queue_arn for name in access.send_to_queues],
                )
            )
        if access.send_email:
            config_set_arn = self.format_arn(
                service="ses",
                resource="configuration-set",
                resource_name=self.config_set.configuration_set_name,
            )
            statements.append(
                iam.PolicyStatement(
                    actions=["ses:SendEmail", "ses:SendRawEmail"],
                    resources=[self.sender_identity_arn, config_set_arn],
                    conditions={"StringEquals": {"ses:FromAddress": self.stage.sender_email}},
                )
            )
        if access.sign_out_staff:
            statements.append(
                iam.PolicyStatement(
                    actions=["cognito-idp:AdminUserGlobalSignOut"],
                    resources=[self.staff_pool.user_pool_arn],
                )
            )
        documents = self.documents_bucket.arn_for_objects("*")
        if access.write_documents:
            statements.append(
                iam.PolicyStatement(
                    # The put carries its own retention (PutObjectRetention);
                    # reading back is the repeat's check of the stored bytes.
                    actions=[
                        "s3:PutObject",
                        "s3:PutObjectRetention",
                        "s3:GetObject",
                        "s3:GetObjectVersion",
                    ],
                    resources=[documents],
                )
            )
        elif access.read_documents:
            statements.append(
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[documents]
                )
            )
        parameters = {p.env: p for p in definitions.PARAMETERS}
        for env in access.read_secrets:
            secret = self.secrets[env]
            reference = self.format_arn(
                service="ssm",
                resource="parameter",
                resource_name=(
                    f"aws/reference/secretsmanager/{self._secret_name(parameters[env])}"
                ),
            )
            statements.append(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]
                )
            )
            statements.append(
                iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[reference])
            )
        return statements

    # --- alarms --------------------------------------------------------------

    def _alarms(self) -> None:
        action = cw_actions.SnsAction(self.alarm_topic)
        five_minutes = Duration.minutes(5)

        def alarm(cid: str, description: str, metric: cloudwatch.IMetric, **kw: Any) -> None:
            created = cloudwatch.Alarm(
                self,
                cid,
                alarm_name=f"{self.prefix}-{construct_id(cid)}",
                alarm_description=description,
                metric=metric,
                threshold=kw.pop("threshold", 0),
                comparison_operator=kw.pop(
                    "comparison_operator",
                    cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                ),
                evaluation_periods=kw.pop("evaluation_periods", 1),
                treat_missing_data=kw.pop(
                    "treat_missing_data", cloudwatch.TreatMissingData.NOT_BREACHING
                ),
                **kw,
            )
            created.add_alarm_action(action)

        for name, dlq in [*self.dlqs.items(), ("undelivered", self.undelivered)]:
            alarm(
                f"{construct_id(name)}DlqNotEmpty",
                f"Messages wait in the {name} dead-letter queue: inspect and redrive them",
                dlq.metric_approximate_number_of_messages_visible(
                    period=five_minutes, statistic="Maximum"
                ),
            )

        alarmed = [(f.logical_id, f.handler) for f in self.functions]
        alarmed += [(f"{construct_id(s.name)}Function", s.name) for s in definitions.OWN_FUNCTIONS]
        for logical_id, handler in alarmed:
            dimensions = {"FunctionName": self.function_name(handler)}
            for metric_name in ("Errors", "Throttles"):
                alarm(
                    f"{logical_id}{metric_name}",
                    f"{handler}: {metric_name.lower()} in the last five minutes",
                    cloudwatch.Metric(
                        namespace="AWS/Lambda",
                        metric_name=metric_name,
                        dimensions_map=dimensions,
                        statistic="Sum",
                        period=five_minutes,
                    ),
                )

        sweeps = [s for s in definitions.SCHEDULES if s.handler == "expire_unpaid_orders"]
        if sweeps and "expire_unpaid_orders" in {f.handler for f in self.functions}:
            # Stale orders hold stock: alarm when no sweep succeeded for three
            # of its intervals, whether it failed or never ran.
            window = Duration.minutes(3 * sweeps[0].every_minutes)
            dimensions = {"FunctionName": self.function_name("expire_unpaid_orders")}
            alarm(
                "StaleOrderSweepFailing",
                "No successful stale-order sweep for three intervals: unpaid orders keep stock",
                cloudwatch.MathExpression(
                    expression="FILL(invocations, 0) - FILL(errors, 0)",
                    using_metrics={
                        name: cloudwatch.Metric(
                            namespace="AWS/Lambda",
                            metric_name=metric,
                            dimensions_map=dimensions,
                            statistic="Sum",
                            period=window,
                        )
                        for name, metric in (("invocations", "Invocations"), ("errors", "Errors"))
                    },
                    period=window,
                    label="successful sweeps",
                ),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            )

        rest_api = self._rest_api()
        if rest_api is not None:
            api_name, api_stage = rest_api
            alarm(
                "Api5xxRate",
                f"More than {API_5XX_RATE_THRESHOLD:.0%} of API requests answered 5xx",
                cloudwatch.Metric(
                    namespace="AWS/ApiGateway",
                    metric_name="5XXError",
                    dimensions_map={"ApiName": api_name, "Stage": api_stage},
                    # The average of a 0/1 metric is the share of 5xx answers.
                    statistic="Average",
                    period=five_minutes,
                ),
                threshold=API_5XX_RATE_THRESHOLD,
                evaluation_periods=2,
            )

    def _rest_api(self) -> tuple[str, str] | None:
        """Names and throttles the chalice REST API: (ApiName, Stage) for its metrics."""
        api_functions = [f for f in self.functions if f.handler == API_HANDLER]
        if not api_functions:
            return None
        cfn = self.chalice.get_resource("RestAPI")
        cfn.add_property_override("Name", self.prefix)
        cfn.add_property_override(
            "MethodSettings",
            [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": self.stage.api_rate_limit,
                    "ThrottlingBurstLimit": self.stage.api_burst_limit,
                }
            ],
        )
        # API Gateway answers some requests itself (authorizer refusals, unknown
        # paths, its own 5xx): give those our JSON error body and request id too.
        cfn.add_property_override("GatewayResponses", sam_gateway_responses())
        stage_name = chalice_config(self.chalice.source_dir)["stages"][self.stage.name].get(
            "api_gateway_stage", "api"
        )
        return self.prefix, stage_name

    # --- security linter -----------------------------------------------------

    def _suppressions(self) -> None:
        """Acknowledged cdk-nag findings, each with the reason it is right here."""
        for secret in self.secrets.values():
            Validations.of(secret).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-SMG4",
                    reason=(
                        "No rotation Lambda can rotate these: webhook signing secrets are "
                        "issued by the payment provider and rotated in its dashboard, and "
                        "the admin key hashes are rotated by editing the list "
                        "(infrastructure/README.md)."
                    ),
                )
            )
        for function in self.own_functions:
            Validations.of(function).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-L1",
                    reason=(
                        "Every function runs on python3.13, the runtime the project is "
                        "built, tested and packaged on (Makefile; the wheels are installed "
                        "for it); moving to a newer runtime is one change for all of them."
                    ),
                )
            )
        Validations.of(self.undelivered).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SQS3",
                reason=(
                    "This queue is itself a dead-letter queue: of the EventBridge rule "
                    "targets and of the stream mapping (on-failure destination), uses "
                    "which cdk-nag does not recognise."
                ),
            )
        )


#: CloudWatch Logs accepts only these retention periods.
_RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def sam_gateway_responses() -> dict[str, Any]:
    """chalicelib/api/gateway.py's responses in SAM's GatewayResponses shape."""
    from chalicelib.api.gateway import gateway_responses

    converted: dict[str, Any] = {}
    for kind, spec in gateway_responses().items():
        headers = {
            name.removeprefix("gatewayresponse.header."): value
            for name, value in spec.get("ResponseParameters", {}).items()
        }
        converted[kind] = {
            "StatusCode": spec["StatusCode"],
            "ResponseParameters": {"Headers": headers},
            "ResponseTemplates": spec["ResponseTemplates"],
        }
    return converted


def _retention(days: int) -> logs.RetentionDays:
    if days not in _RETENTION:
        raise ValueError(f"log retention must be one of {sorted(_RETENTION)} days, not {days}")
    return _RETENTION[days]


def _queue_name(queue: Any) -> str:
    """The queue name chalice put in an SQS event (an ARN or Fn::Sub)."""
    arn = queue["Fn::Sub"] if isinstance(queue, dict) else queue
    return str(arn).rsplit(":", 1)[-1]
