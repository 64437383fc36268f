"""The synthesised templates pass cfn-lint and cdk-nag's AwsSolutions rules."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import lint

from infrastructure import definitions
from tests.infra.conftest import Synthesis

pytestmark = pytest.mark.infra

#: cfn-lint rules deliberately ignored, each with its reason. Empty: the
#: templates lint clean, warnings and informational findings included.
IGNORED_CFN_LINT_RULES: dict[str, str] = {}


def test_cfn_lint_finds_nothing(synthesis: Synthesis) -> None:
    for stage, path in synthesis.template_paths.items():
        matches = lint(path.read_text(), regions=[definitions.STAGES[stage].region])
        findings = [
            f"{m.rule.id} {m.message} (line {m.linenumber})"
            for m in matches
            if m.rule.id not in IGNORED_CFN_LINT_RULES
        ]
        assert findings == [], f"{synthesis.name}/{stage}"


def test_cdk_nag_reports_no_violation(synthesis: Synthesis) -> None:
    # A violation stops synthesis itself; the report proves the rules ran.
    report = json.loads((synthesis.assembly / "validation-report.json").read_text())
    violations = [
        violation
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
    ]
    assert violations == []


def acknowledgements(synthesis: Synthesis) -> dict[str, dict[str, str]]:
    """Acknowledged cdk-nag rules by construct path, from the assembly."""
    found: dict[str, dict[str, str]] = {}
    for stage in synthesis.templates:
        metadata = json.loads((synthesis.assembly / f"{stage}.metadata.json").read_text())
        for path, entries in metadata.items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    found.setdefault(path, {}).update(entry["data"])
    return found


def test_every_acknowledged_finding_has_a_reason(synthesis: Synthesis) -> None:
    found = acknowledgements(synthesis)
    assert found, "expected the acknowledgements documented in infrastructure/README.md"
    for path, rules in found.items():
        for rule, reason in rules.items():
            assert rule.startswith("AwsSolutions::AwsSolutions-"), (path, rule)
            assert len(reason.split()) >= 12, (path, rule, reason)


def test_only_the_documented_rules_are_acknowledged(synthesis: Synthesis) -> None:
    rules = {rule for found in acknowledgements(synthesis).values() for rule in found}
    assert rules == {
        "AwsSolutions::AwsSolutions-SMG4",
        "AwsSolutions::AwsSolutions-SQS3",
        "AwsSolutions::AwsSolutions-COG2",
        # The invoices bucket (infrastructure/stack.py): its access-log bucket,
        # its objects' ARN in the roles that read or put them, and the
        # documents function's runtime.
        "AwsSolutions::AwsSolutions-S1",
        "AwsSolutions::AwsSolutions-IAM5[Resource::<InvoicesBucket57FCB164.Arn>/*]",
        "AwsSolutions::AwsSolutions-L1",
    }
