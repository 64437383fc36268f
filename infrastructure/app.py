"""The CDK app: one OrdersStack per stage of .chalice/config.json, checked
by cdk-nag's AwsSolutions rules.

``build`` is what `make synth` and the infra tests both call; nothing here
needs AWS credentials or the CDK CLI.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

# The project's machines run Node 20, past its end of life; jsii still works
# on it but prints a banner on every start, burying the synth's own output.
# (README: use Node 22+ where you deploy from.)
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infrastructure import definitions
from infrastructure.stack import OrdersStack, chalice_config

REPO_ROOT = Path(__file__).resolve().parent.parent


def stage_names(source_dir: Path) -> list[str]:
    """The stages of .chalice/config.json; each needs a definitions.STAGES entry."""
    names = list(chalice_config(str(source_dir))["stages"])
    unknown = [name for name in names if name not in definitions.STAGES]
    if unknown:
        raise ValueError(
            f"stages {unknown} of .chalice/config.json have no entry in definitions.STAGES"
        )
    return names


def build(
    outdir: Path,
    source_dir: Path = REPO_ROOT,
    stages: Iterable[str] | None = None,
) -> cdk.App:
    """Declare the app's stacks; ``app.synth()`` then writes ``outdir``.

    chalice's construct packages the app while the stack is declared and
    writes the package to ./chalice.out, so the declaration runs in
    ``outdir``'s parent to keep the packages beside the assembly.
    """
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    app = cdk.App(
        outdir=str(outdir),
        # Server access logs are delivered by a bucket policy for the logging
        # service, not the deprecated LogDeliveryWrite ACL (the invoices bucket's logs).
        context={"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True},
    )
    # Any unacknowledged finding stops app.synth(); every acknowledgement in
    # stack.py carries its reason.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    # With credentials, `cdk deploy` sets CDK_DEFAULT_ACCOUNT; without, the
    # stacks stay account-agnostic, which is all synthesis needs.
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    with contextlib.chdir(outdir.parent):
        for name in stages or stage_names(source_dir):
            stage = definitions.STAGES[name]
            # chalice's packager asks botocore for a region (offline).
            os.environ["AWS_DEFAULT_REGION"] = stage.region
            OrdersStack(
                app,
                stage,
                source_dir=str(source_dir.resolve()),
                env=cdk.Environment(account=account, region=stage.region),
            )
    return app
