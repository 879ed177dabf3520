"""Template security: cfn-lint with AWS's serverless rules (and its informational checks)
and checkov, on template.yaml and on the CloudFormation the SAM transform makes of it,
report nothing that has no written reason.

A reason lives on the resource (`Metadata: checkov: skip: [{id, comment}]`, or
`Metadata: cfn-lint: config: ignore_checks` with a comment), except for the few checks that
every function or log group fails alike for one reason: those are in EVERY_FUNCTION below,
said once instead of thirteen times. The scanners run whatever the template holds, so a new
resource is scanned the day it is added.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cfn_template import ROOT, Template, edited

SCANNERS = ROOT / ".tools" / "checkov" / "bin"

EVERY_FUNCTION = {
    "CKV_AWS_115": "No reserved concurrency: a new account has 10 units to share, and stage "
    "throttling plus per-user send limits bound the load; reserve per function in prod "
    "when its share is known.",
    "CKV_AWS_116": "A function DLQ applies to asynchronous invocations only; every function "
    "here is invoked synchronously (API Gateway) or by an event source mapping, whose "
    "failures go to the mapping's own on-failure destination or the queue's DLQ.",
    "CKV_AWS_117": "No VPC: the functions reach only AWS APIs (DynamoDB, SQS, SNS, API "
    "Gateway, OpenSearch over HTTPS with IAM), and a VPC would add NAT cost and cold-start "
    "latency for no private resource.",
    "CKV_AWS_173": "Environment variables hold names and endpoints, never a secret; Lambda "
    "encrypts them at rest with its service key.",
    "CKV_AWS_158": "Log groups are encrypted by CloudWatch Logs with its service key; no "
    "token or secret is ever logged, so a customer managed key would add cost and a key "
    "policy without protecting anything more.",
}


def _scanner(name: str) -> str:
    path = SCANNERS / name
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: `make test` installs it", pytrace=False)
    return str(path)


def _run(command: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AWS_DEFAULT_REGION="us-east-1", BC_SKIP_MAPPING="TRUE")
    return subprocess.run(  # noqa: S603 -- the project's own scanners, no shell
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600
    )


def cfn_lint_findings(template: Path) -> list[str]:
    result = _run(
        [
            _scanner("cfn-lint"),
            "--format",
            "parseable",
            "--include-checks",
            "I",
            "--append-rules",
            "cfn_lint_serverless.rules",
            "--",
            str(template),
        ]
    )
    assert result.returncode in (0, 2, 4, 6, 8, 10, 12, 14), result.stderr
    return result.stdout.splitlines()


def checkov_results(template: Path, *, quiet: bool = True) -> list[dict[str, Any]]:
    """checkov's results for each of its reports (`failed_checks`; `passed_checks` and
    `skipped_checks` too unless quiet)."""
    result = _run(
        [
            _scanner("checkov"),
            "--file",
            template.name,
            "--framework",
            "cloudformation",
            "--output",
            "json",
            *(["--quiet"] if quiet else []),
            "--compact",
            "--skip-download",
        ],
        cwd=template.parent,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    reports = json.loads(result.stdout or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    return [
        report["results"] for report in reports if isinstance(report, dict) and "results" in report
    ]


def checkov_failures(template: Path) -> list[dict[str, Any]]:
    return [
        failure for results in checkov_results(template) for failure in results["failed_checks"]
    ]


def unexplained(failures: list[dict[str, Any]]) -> list[str]:
    return sorted(
        f"{f['check_id']} {f['resource']}: {f['check_name']}"
        for f in failures
        if f["check_id"] not in EVERY_FUNCTION
    )


def test_cfn_lint_with_serverless_rules_finds_nothing() -> None:
    assert cfn_lint_findings(ROOT / "template.yaml") == []


@pytest.fixture(scope="module")
def template_failures() -> list[dict[str, Any]]:
    return checkov_failures(ROOT / "template.yaml")


def test_checkov_finds_nothing_unexplained_in_the_template(
    template_failures: list[dict[str, Any]],
) -> None:
    assert unexplained(template_failures) == []


def test_checkov_finds_nothing_unexplained_after_the_sam_transform(transformed: Path) -> None:
    resources = json.loads(transformed.read_text())["Resources"]
    assert any(r["Type"] == "AWS::Lambda::Function" for r in resources.values())
    assert unexplained(checkov_failures(transformed)) == []


HOSTED = (
    '  HostWebClient:\n    Type: String\n    Default: "false"',
    '  HostWebClient:\n    Type: String\n    Default: "true"',
)


def test_checkov_finds_nothing_unexplained_with_the_web_client_hosted(
    tmp_path: Path, sam_transform: Callable[[Path, Path], Path]
) -> None:
    """checkov leaves out what the parameters' defaults leave out: the web client's bucket
    and distribution are scanned in a copy whose default hosts them."""
    hosted = _broken_copy(tmp_path, *HOSTED)
    results = checkov_results(hosted, quiet=False)
    kinds = ("passed_checks", "failed_checks", "skipped_checks")
    scanned = {check["resource"] for r in results for kind in kinds for check in r.get(kind, [])}
    assert {"AWS::S3::Bucket.WebBucket", "AWS::CloudFront::Distribution.WebDistribution"} <= scanned
    assert unexplained([failure for r in results for failure in r["failed_checks"]]) == []
    assert unexplained(checkov_failures(sam_transform(hosted, tmp_path / "hosted.json"))) == []


def test_every_skip_carries_a_reason(template: Template) -> None:
    for name, resource in template.resources.items():
        for skip in resource.metadata.get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 30, f"{name}: {skip}"
    assert all(len(reason) > 30 for reason in EVERY_FUNCTION.values())


def test_the_shared_reasons_are_only_for_functions_and_log_groups(
    template_failures: list[dict[str, Any]],
) -> None:
    failures = template_failures
    kinds = {f["resource"].split(".")[0] for f in failures if f["check_id"] in EVERY_FUNCTION}
    assert kinds <= {"AWS::Serverless::Function", "AWS::Lambda::Function", "AWS::Logs::LogGroup"}
    assert {f["check_id"] for f in failures} >= set(EVERY_FUNCTION), "a shared reason is stale"


# ------------------------------------------------------------------ the scanners can fail


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "template.yaml").read_text()
    assert old in text, "pick another breakage: the template changed"
    path = tmp_path / "template.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_cfn_lint_flags_a_function_without_a_retained_log_group(tmp_path: Path) -> None:
    broken = _broken_copy(tmp_path, "  WsPingFunctionLogs:\n", "  WsPingFunctionLogsGone:\n")
    broken.write_text(broken.read_text().replace("${WsPingFunction}", "ping-elsewhere"))
    assert any("WS1004" in line for line in cfn_lint_findings(broken))


def test_checkov_flags_a_table_without_point_in_time_recovery(tmp_path: Path) -> None:
    broken = _broken_copy(
        tmp_path, "PointInTimeRecoveryEnabled: true", "PointInTimeRecoveryEnabled: false"
    )
    assert "CKV_AWS_28 AWS::DynamoDB::Table.AppTable" in " ".join(
        unexplained(checkov_failures(broken))
    )


# ------------------------------------------------------------------ stage throttling


def unthrottled_apis(template: Template) -> list[str]:
    """APIs whose stage has no default rate and burst limit (HTTP API or WebSocket stage)."""
    stage_settings = {
        r.logical_id: r.properties.get("DefaultRouteSettings", {})
        for r in template.of_type("AWS::Serverless::HttpApi")
    }
    stage_settings.update(
        {
            r.properties["ApiId"]["Ref"]: r.properties.get("DefaultRouteSettings", {})
            for r in template.of_type("AWS::ApiGatewayV2::Stage")
        }
    )
    apis = [
        r.logical_id for r in template.of_type("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api")
    ]
    return sorted(
        api
        for api in apis
        if not {"ThrottlingBurstLimit", "ThrottlingRateLimit"} <= set(stage_settings.get(api, {}))
    )


def test_both_apis_have_stage_throttling(template: Template) -> None:
    assert unthrottled_apis(template) == []
    parameters = template.parameters
    assert 0 < parameters["ThrottleRate"]["Default"] <= parameters["ThrottleBurst"]["Default"]


def test_the_throttling_check_catches_a_stage_without_limits(template: Template) -> None:
    def unthrottle(document: dict[str, Any]) -> None:
        del document["Resources"]["WebSocketStage"]["Properties"]["DefaultRouteSettings"]

    assert unthrottled_apis(edited(template, unthrottle)) == ["WebSocketApi"]
