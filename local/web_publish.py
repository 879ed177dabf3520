"""Publishes the web client (web/dist, `make web`) to a stack deployed with
HostWebClient=true: its bucket gets the build and a config.json that points the client at
the stack's APIs and user pool, then the distribution forgets what it cached.

    make web-publish ARGS="--stack parley-dev"
    python -m local.web_publish --stack parley-dev [--region us-east-1] [--dist web/dist]

Everything comes from the stack's Outputs (HttpApiUrl, WebSocketUrl, UserPoolId,
UserPoolClientId; WebClientBucket and WebDistributionId, which only HostWebClient=true
makes). config.json has the shape local/web.py serves (`web_config`). Each file goes up
with its content type; a name without a content hash (all that `make web` builds today:
index.html, app.js, style.css) and config.json are `no-cache`, revalidated by the browser
on each load, so a publish shows at the next reload; a hashed name would be cached a year.
The page goes up last, after what it loads, and files of an earlier build that this one
lacks are deleted (the bucket keeps earlier versions for 30 days). Then the unhashed paths
are invalidated in CloudFront. Prints the client's URL.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.web import WEB_DIST, WebBuildMissing, web_config

CONFIG_KEY = "config.json"
PAGE_KEY = "index.html"
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
# esbuild's `[name]-[hash]` (8 base32 characters), or a hex digest of 8 or more.
_HASHED = re.compile(r"[.-](?:[A-Z2-7]{8}|[0-9a-f]{8,})\.[A-Za-z0-9]+$")
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".map": "application/json",
}
OUTPUTS = ("HttpApiUrl", "WebSocketUrl", "UserPoolId", "UserPoolClientId")
HOSTING_OUTPUTS = ("WebClientBucket", "WebDistributionId")


class PublishError(Exception):
    """The stack cannot take the client (no such stack, HostWebClient off): the message says
    what to do."""


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    return _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    return IMMUTABLE if _HASHED.search(key) else REVALIDATE


def stack_config(outputs: Mapping[str, str], region: str) -> dict[str, Any]:
    """config.json for a deployed stack, from its Outputs."""
    return web_config(
        {
            "httpUrl": outputs["HttpApiUrl"],
            "wsUrl": outputs["WebSocketUrl"],
            "region": region,
            "cognito": {
                "userPoolId": outputs["UserPoolId"],
                "clientId": outputs["UserPoolClientId"],
            },
        },
        local=False,
    )


@dataclass(frozen=True)
class Published:
    uploaded: list[str]  # keys, in upload order
    removed: list[str]
    invalidated: list[str]  # CloudFront paths
    invalidation_id: str


def build_files(dist: Path) -> list[str]:
    """The build's keys (paths under dist), the page last; config.json is never the build's."""
    if not (dist / PAGE_KEY).is_file():
        raise WebBuildMissing(f"{dist} has no build of the web client: run `make web`")
    keys = sorted(path.relative_to(dist).as_posix() for path in dist.rglob("*") if path.is_file())
    keys = [key for key in keys if key not in (PAGE_KEY, CONFIG_KEY)]
    return [*keys, PAGE_KEY]


def publish(
    dist: Path,
    config: Mapping[str, Any],
    bucket: str,
    distribution_id: str,
    *,
    s3: Any,
    cloudfront: Any,
) -> Published:
    """Uploads the build and config.json to the bucket, deletes what an earlier build left,
    and invalidates the paths that browsers and CloudFront revalidate."""
    keys = build_files(dist)
    # What the page loads first, then its configuration, then the page.
    order = [*keys[:-1], CONFIG_KEY, PAGE_KEY]
    for key in order:
        body = (
            json.dumps(config, indent=2).encode() + b"\n"
            if key == CONFIG_KEY
            else (dist / key).read_bytes()
        )
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type(key),
            CacheControl=cache_control(key),
        )
    existing = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    ]
    removed = sorted(set(existing) - set(order))
    for start in range(0, len(removed), 1000):
        s3.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": key} for key in removed[start : start + 1000]]},
        )
    # The default root object is cached as / as well as /index.html.
    paths = ["/", *(f"/{key}" for key in order if cache_control(key) == REVALIDATE)]
    invalidation = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": f"parley-web-{time.time_ns()}",
        },
    )
    return Published(order, removed, paths, str(invalidation["Invalidation"]["Id"]))


def _outputs(stack: str, region: str, endpoint_url: str | None) -> dict[str, str]:
    from parley.adapters.cloudformation import StackOutputsError, required, stack_outputs

    try:
        outputs = stack_outputs(stack, region, endpoint_url)
        required(outputs, stack, *OUTPUTS)
    except StackOutputsError as error:
        raise PublishError(str(error)) from None
    missing = [name for name in HOSTING_OUTPUTS if name not in outputs]
    if missing:
        raise PublishError(
            f"stack {stack!r} has no output {', '.join(missing)}: it does not host the web"
            " client. Deploy it with --parameter-overrides HostWebClient=true (and the rest"
            " of its overrides), then publish again"
        )
    return outputs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.web_publish",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", required=True, help="the deployed stack (HostWebClient=true)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--dist", type=Path, default=WEB_DIST, help="the build (web/dist)")
    parser.add_argument("--aws-endpoint-url", help="AWS endpoint (a test's moto)")
    arguments = parser.parse_args(argv)
    try:
        outputs = _outputs(arguments.stack, arguments.region, arguments.aws_endpoint_url)
        build_files(arguments.dist)
    except (PublishError, WebBuildMissing) as error:
        print(f"web-publish: {error}", file=sys.stderr)
        return 1

    import boto3

    clients = {
        name: boto3.client(
            name, region_name=arguments.region, endpoint_url=arguments.aws_endpoint_url
        )
        for name in ("s3", "cloudfront")
    }
    published = publish(
        arguments.dist,
        stack_config(outputs, arguments.region),
        outputs["WebClientBucket"],
        outputs["WebDistributionId"],
        s3=clients["s3"],
        cloudfront=clients["cloudfront"],
    )
    print(
        f"published {len(published.uploaded)} files to s3://{outputs['WebClientBucket']}"
        f" ({len(published.removed)} removed), invalidation {published.invalidation_id}",
        file=sys.stderr,
    )
    print(outputs.get("WebClientUrl", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
