"""`make web-publish` (local/web_publish.py) puts the web client in a stack's bucket: it
finds the stack through CloudFormation's DescribeStacks (moto's, with a bucket the stack
really made and a distribution moto's CloudFront made), writes config.json as the local
server does, uploads with content types and cache-control, and invalidates CloudFront."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from local import web_publish
from local.web import web_config

HTTP_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
WS_URL = "wss://f6g7h8i9j0.execute-api.us-east-1.amazonaws.com/dev"
POOL, CLIENT = "us-east-1_AbCdEf123", "4example0client0id0abcdef"


def _distribution() -> dict[str, Any]:
    distribution: dict[str, Any] = boto3.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": uuid.uuid4().hex,
            "Comment": "Parley test: the web client",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "WebBucket",
                        "DomainName": "web.s3.us-east-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "WebBucket",
                "ViewerProtocolPolicy": "redirect-to-https",
            },
        }
    )["Distribution"]
    return distribution


def _stack(*, hosted: bool = True) -> tuple[str, dict[str, str]]:
    """A stack with the template's output names: a bucket it makes, the rest as values."""
    outputs = {
        "HttpApiUrl": HTTP_URL,
        "WebSocketUrl": WS_URL,
        "UserPoolId": POOL,
        "UserPoolClientId": CLIENT,
    }
    resources: dict[str, Any] = {"Placeholder": {"Type": "AWS::SQS::Queue"}}
    template_outputs: dict[str, Any] = {name: {"Value": value} for name, value in outputs.items()}
    if hosted:
        distribution = _distribution()
        resources = {"WebBucket": {"Type": "AWS::S3::Bucket"}}
        template_outputs |= {
            "WebClientBucket": {"Value": {"Ref": "WebBucket"}},
            "WebDistributionId": {"Value": distribution["Id"]},
            "WebClientUrl": {"Value": f"https://{distribution['DomainName']}"},
        }
    name = f"parley-test-{uuid.uuid4().hex[:8]}"
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps({"Resources": resources, "Outputs": template_outputs}),
    )
    described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    return name, {o["OutputKey"]: o["OutputValue"] for o in described}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A build as `make web` lays it out, and a content-hashed file beside it."""
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text('<!doctype html><script type="module" src="app.js">')
    (dist / "app.js").write_text("console.log('parley')")
    (dist / "style.css").write_text("body { margin: 0 }")
    (dist / "chunk-5XQ2LKZP.js").write_text("export {}")
    return dist


def _object(bucket: str, key: str) -> dict[str, Any]:
    obj: dict[str, Any] = boto3.client("s3").get_object(Bucket=bucket, Key=key)
    return obj


def _invalidated_paths(distribution_id: str) -> list[list[str]]:
    cloudfront = boto3.client("cloudfront")
    listing = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
    return [
        cloudfront.get_invalidation(DistributionId=distribution_id, Id=item["Id"])["Invalidation"][
            "InvalidationBatch"
        ]["Paths"]["Items"]
        for item in listing.get("Items", [])
    ]


def test_publish_uploads_the_build_and_the_stacks_config_with_types_and_caching(
    aws: None, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, outputs = _stack()
    bucket = outputs["WebClientBucket"]

    assert web_publish.main(["--stack", name, "--dist", str(dist)]) == 0

    assert capsys.readouterr().out.strip() == outputs["WebClientUrl"]
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == [
        "app.js",
        "chunk-5XQ2LKZP.js",
        "config.json",
        "index.html",
        "style.css",
    ]
    expected = {
        "index.html": ("text/html; charset=utf-8", "no-cache"),
        "config.json": ("application/json", "no-cache"),
        "app.js": ("text/javascript; charset=utf-8", "no-cache"),
        "style.css": ("text/css; charset=utf-8", "no-cache"),
        "chunk-5XQ2LKZP.js": (
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
    }
    for key, (content_type, cache_control) in expected.items():
        obj = _object(bucket, key)
        assert (obj["ContentType"], obj["CacheControl"]) == (content_type, cache_control), key
    assert _object(bucket, "app.js")["Body"].read() == (dist / "app.js").read_bytes()

    config = json.loads(_object(bucket, "config.json")["Body"].read())
    assert config == {
        "httpUrl": HTTP_URL,
        "wsUrl": WS_URL,
        "region": "us-east-1",
        # No endpoint: the client calls the region's Cognito (web/src/config.ts).
        "cognito": {"endpoint": "", "userPoolId": POOL, "clientId": CLIENT},
        "local": False,
    }
    local_description = {
        "httpUrl": "http://127.0.0.1:3000",
        "wsUrl": "ws://127.0.0.1:3001",
        "cognito": {"endpoint": "http://127.0.0.1:3002", "userPoolId": "p", "clientId": "c"},
    }
    assert config.keys() == web_config(local_description).keys()

    assert _invalidated_paths(outputs["WebDistributionId"]) == [
        ["/", "/app.js", "/style.css", "/config.json", "/index.html"]
    ]


def test_the_page_goes_up_after_what_it_loads(aws: None, dist: Path) -> None:
    _, outputs = _stack()
    s3 = boto3.client("s3")
    keys: list[str] = []
    s3.meta.events.register(
        "before-call.s3.PutObject", lambda params, **_: keys.append(params["url_path"])
    )

    published = web_publish.publish(
        dist,
        {"httpUrl": HTTP_URL},
        outputs["WebClientBucket"],
        outputs["WebDistributionId"],
        s3=s3,
        cloudfront=boto3.client("cloudfront"),
    )

    uploaded = [path.rsplit("/", 1)[1] for path in keys]
    assert uploaded == published.uploaded
    assert uploaded[-2:] == ["config.json", "index.html"]
    assert set(uploaded[:-2]) == {"app.js", "chunk-5XQ2LKZP.js", "style.css"}


def test_a_file_of_an_earlier_build_is_removed(aws: None, dist: Path) -> None:
    name, outputs = _stack()
    bucket = outputs["WebClientBucket"]
    boto3.client("s3").put_object(Bucket=bucket, Key="app-old.js", Body=b"old")

    assert web_publish.main(["--stack", name, "--dist", str(dist)]) == 0

    keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]}
    assert "app-old.js" not in keys
    assert "index.html" in keys


def test_a_stack_without_the_web_client_is_refused_with_what_to_deploy(
    aws: None, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, _ = _stack(hosted=False)

    assert web_publish.main(["--stack", name, "--dist", str(dist)]) == 1

    error = capsys.readouterr().err
    assert "WebClientBucket" in error
    assert "HostWebClient=true" in error


def test_no_such_stack_is_refused(
    aws: None, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert web_publish.main(["--stack", "parley-nowhere", "--dist", str(dist)]) == 1
    assert "parley-nowhere" in capsys.readouterr().err


def test_a_missing_build_is_refused_before_anything_is_uploaded(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, outputs = _stack()

    assert web_publish.main(["--stack", name, "--dist", str(tmp_path / "none")]) == 1

    assert "make web" in capsys.readouterr().err
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=outputs["WebClientBucket"])
    assert _invalidated_paths(outputs["WebDistributionId"]) == []


@pytest.mark.parametrize(
    ("key", "cache_control"),
    [
        ("index.html", "no-cache"),
        ("app.js", "no-cache"),
        ("app-5XQ2LKZP.js", "public, max-age=31536000, immutable"),
        ("assets/logo.3f2a9c1d.svg", "public, max-age=31536000, immutable"),
        ("app-notahash.js", "no-cache"),
    ],
)
def test_only_a_content_hashed_name_is_cached_long(key: str, cache_control: str) -> None:
    assert web_publish.cache_control(key) == cache_control
