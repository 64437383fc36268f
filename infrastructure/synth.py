"""`make synth`: write the CloudFormation template of a stage.

Prints the path of each stage's template, the last line being the last
stage's (with one stage, its only template). cdk-nag findings stop the
synthesis with their report; any other error annotation is printed and the
exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infrastructure.app import REPO_ROOT, build

DEFAULT_OUTDIR = REPO_ROOT / "build" / "infra" / "cdk.out"


def errors_of(assembly: object) -> list[str]:
    """Every error annotation in a synthesised cloud assembly."""
    found = []
    for stack in assembly.stacks:  # type: ignore[attr-defined]
        for entry in stack.find_metadata_by_type("aws:cdk:error"):
            found.append(f"{entry.path}: {entry.data}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", default="dev", help="a stage of .chalice/config.json, or 'all'")
    parser.add_argument("--outdir", type=Path, default=DEFAULT_OUTDIR)
    parser.add_argument("--source-dir", type=Path, default=REPO_ROOT)
    args = parser.parse_args(argv)

    stages = None if args.stage == "all" else [args.stage]
    assembly = build(args.outdir, args.source_dir, stages=stages).synth()
    errors = errors_of(assembly)
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        print(f"synth found {len(errors)} error(s)", file=sys.stderr)
        return 1
    for stack in assembly.stacks:
        print(stack.template_full_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
