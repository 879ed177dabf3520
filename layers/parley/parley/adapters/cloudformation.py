"""A deployed stack's Outputs (CloudFormation DescribeStacks), for the operator tools
(`make reindex`, `make redrive`) that find their table, domain and queues from a stack name.
No function imports it."""

from __future__ import annotations

import argparse
from typing import Any


def operator_parser(prog: str, description: str | None, stack_help: str) -> argparse.ArgumentParser:
    """An operator tool's command line with the options every one takes (`--stack`,
    `--region`, `--aws-endpoint-url`); the tool adds its own."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", help=stack_help)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--aws-endpoint-url", help="AWS endpoint (the local stack's moto)")
    return parser


class StackOutputsError(Exception):
    """The stack does not exist, or lacks an output a tool needs: the message says which."""


def stack_outputs(
    stack_name: str, region: str, endpoint_url: str | None = None, client: Any | None = None
) -> dict[str, str]:
    import boto3
    from botocore.exceptions import ClientError

    cloudformation = client or boto3.client(
        "cloudformation", region_name=region, endpoint_url=endpoint_url
    )
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        raise StackOutputsError(f"stack {stack_name!r} in {region}: {error}") from None
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def required(outputs: dict[str, str], stack_name: str, *names: str) -> list[str]:
    """The named outputs' values, in order; a missing one names the stack and the output."""
    missing = [name for name in names if name not in outputs]
    if missing:
        raise StackOutputsError(
            f"stack {stack_name!r} has no output {', '.join(missing)}: deployed from an older"
            " template? Deploy again, or name the resources with the other options"
        )
    return [outputs[name] for name in names]
