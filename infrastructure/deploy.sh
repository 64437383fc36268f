#!/usr/bin/env bash
# `make deploy STAGE=...`: deploy one stage's synthesised cloud assembly
# (written by `make synth`) with the AWS CDK CLI. Needs Node.js and AWS
# credentials for the target account; see infrastructure/README.md.
set -euo pipefail

stage="${1:?usage: infrastructure/deploy.sh STAGE}"
cd "$(dirname "$0")/.."

# The CLI is fetched by npx at this pinned version, so no global install is
# needed and every deploy uses the same one.
cli_version="${CDK_CLI_VERSION:-2.1148.1}"

exec npx --yes "aws-cdk@${cli_version}" deploy \
    --app build/infra/cdk.out \
    --require-approval broadening \
    "$stage"
