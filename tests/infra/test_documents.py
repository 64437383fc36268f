"""The documents function and the invoices bucket as synthesised
(infrastructure/stack.py, definitions.OWN_FUNCTIONS, documents_package.py):
the bucket keeps every PDF locked in compliance mode, only the documents
function may put objects, and its package renders without Pillow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from chalicelib.domain.archive import RETENTION_YEARS
from infrastructure import definitions
from infrastructure.access import API_HANDLER
from tests.infra.conftest import Synthesis
from tests.infra.test_template import (
    allow_statements,
    as_list,
    functions_by_handler,
    only,
    queue_logical_id,
)

SPEC = definitions.DOCUMENTS_FUNCTION


def invoices_bucket(synthesis: Synthesis, stage: str) -> tuple[str, dict[str, Any]]:
    buckets = synthesis.resources(stage, "AWS::S3::Bucket")
    return only({k: v for k, v in buckets.items() if k.startswith("InvoicesBucket")})


def documents_function(synthesis: Synthesis, stage: str) -> tuple[str, dict[str, Any]]:
    functions = synthesis.resources(stage, "AWS::Lambda::Function")
    return only(
        {
            k: v
            for k, v in functions.items()
            if v["Properties"].get("FunctionName") == f"shop-orders-{stage}-{SPEC.name}"
        }
    )


def test_the_bucket_is_versioned_locked_for_eight_years_private_and_retained(
    synthesis: Synthesis,
) -> None:
    for stage in synthesis.templates:
        logical_id, bucket = invoices_bucket(synthesis, stage)
        properties = bucket["Properties"]
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert properties["ObjectLockEnabled"] is True
        retention = properties["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
        assert retention["Mode"] == "COMPLIANCE"
        assert retention["Days"] >= 365 * RETENTION_YEARS + RETENTION_YEARS // 4
        assert all(properties["PublicAccessBlockConfiguration"].values())
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert "LoggingConfiguration" in properties
        assert bucket["DeletionPolicy"] == "Retain"  # in every stage: locked objects stay
        policies = synthesis.resources(stage, "AWS::S3::BucketPolicy")
        (policy,) = [
            p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": logical_id}
        ]
        (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def s3_actions(synthesis: Synthesis, stage: str, role_id: str) -> set[str]:
    actions: set[str] = set()
    for owner, statement in allow_statements(synthesis, stage):
        policy = synthesis.templates[stage]["Resources"][owner]["Properties"]
        if {"Ref": role_id} in policy.get("Roles", []):
            actions |= {a for a in as_list(statement["Action"]) if a.startswith("s3:")}
    return actions


def test_only_the_documents_function_puts_pdfs_and_readers_only_read(
    synthesis: Synthesis,
) -> None:
    for stage in synthesis.templates:
        _, function = documents_function(synthesis, stage)
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        assert s3_actions(synthesis, stage, role_id) == {
            "s3:PutObject",
            "s3:PutObjectRetention",
            "s3:GetObject",
            "s3:GetObjectVersion",
        }
        for handler, properties in functions_by_handler(synthesis, stage).items():
            actions = s3_actions(synthesis, stage, properties["Role"]["Fn::GetAtt"][0])
            if handler in (API_HANDLER, "send_notifications"):
                assert actions == {"s3:GetObject", "s3:GetObjectVersion"}, handler
            else:
                assert actions == set(), handler


def test_the_documents_function_consumes_its_queue_on_python_3_13(synthesis: Synthesis) -> None:
    queue = next(q for q in definitions.QUEUES if q.consumer == SPEC.name)
    for stage in synthesis.templates:
        function_id, function = documents_function(synthesis, stage)
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.13"
        assert properties["Handler"] == SPEC.handler
        assert properties["Timeout"] == queue.consumer_timeout
        variables = properties["Environment"]["Variables"]
        bucket_id, _ = invoices_bucket(synthesis, stage)
        assert variables["SHOP_INVOICE_BUCKET"] == {"Ref": bucket_id}
        queue_id = queue_logical_id(synthesis, stage, queue.queue_name)
        queues = synthesis.resources(stage, "AWS::SQS::Queue")
        visibility = queues[queue_id]["Properties"]["VisibilityTimeout"]
        assert visibility == 6 * queue.consumer_timeout
        (mapping,) = [
            m["Properties"]
            for m in synthesis.resources(stage, "AWS::Lambda::EventSourceMapping").values()
            if m["Properties"]["FunctionName"] == {"Ref": function_id}
        ]
        assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] == queue.batch_size


def test_issued_documents_are_routed_to_the_documents_queue(synthesis: Synthesis) -> None:
    for stage in synthesis.templates:
        queue_id = queue_logical_id(synthesis, stage, "documents")
        target = {"Fn::GetAtt": [queue_id, "Arn"]}
        rules = [
            r["Properties"]
            for r in synthesis.resources(stage, "AWS::Events::Rule").values()
            if any(t["Arn"] == target for t in r["Properties"]["Targets"])
        ]
        (rule,) = rules
        assert rule["EventPattern"]["detail-type"] == ["InvoiceIssued", "CreditNoteIssued"]


def package_dir(synthesis: Synthesis) -> Path:
    _, function = documents_function(synthesis, "dev")
    key = function["Properties"]["Code"]["S3Key"]
    return synthesis.assembly / f"asset.{key.removesuffix('.zip')}"


RENDERS = """
import importlib.util, json, sys
assert importlib.util.find_spec("PIL") is None, "Pillow is in the package"
import invoice_pdf.handler  # the entry point imports as Lambda imports it
from chalicelib.store.invoices import invoice_from_plain
from invoice_pdf.render import render
pdf = render(invoice_from_plain(json.loads(sys.stdin.read())))
assert pdf.startswith(b"%PDF-"), pdf[:8]
import fpdf, fontTools, pydantic_core
print(json.dumps([m.__file__ for m in (fpdf, fontTools, pydantic_core, invoice_pdf.handler)]))
"""


def test_the_package_carries_the_renderer_without_pillow_and_renders_an_invoice(
    synthesis: Synthesis,
) -> None:
    from chalicelib.store.invoices import document_to_plain
    from tests.invoice_samples import invoice_of, paid_order

    package = package_dir(synthesis)
    assert (package / "invoice_pdf" / "fonts" / "DejaVuSans.ttf").exists()
    assert (package / "chalicelib" / "services" / "archive.py").exists()
    assert not list(package.glob("PIL*")) and not list(package.glob("pillow*"))
    # The package first on the path, as Lambda puts it (boto3 beside it, as
    # the runtime provides; this environment has no Pillow either way).
    done = subprocess.run(
        [sys.executable, "-c", RENDERS],
        input=json.dumps(document_to_plain(invoice_of(paid_order()))),
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(package), "PYTHONNOUSERSITE": "1"},
        cwd=package,  # "-c" puts the working directory first on the path
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert all(path.startswith(str(package)) for path in json.loads(done.stdout))
