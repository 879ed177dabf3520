"""What cfn-lint and `sam validate --lint` miss, checked on the real template and, to show
that each check can fail, on broken copies of it."""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cfn_template import (
    REQUIRED_OUTPUTS,
    ROOT,
    Template,
    check_alarms,
    check_buckets_private,
    check_cors_origins,
    check_deploy_doc,
    check_event_routes,
    check_function_handler,
    check_function_runtime,
    check_iam_least_privilege,
    check_orphan_events,
    check_outputs,
    check_own_metrics,
    check_sample_events,
    check_stream_arns,
    check_web_client_gated,
    check_web_origin_access,
    check_websocket_authorizers,
    check_websocket_routes,
    edited,
    function_dir,
    functions,
    load_template,
    rule_violations,
    web_client_resources,
)

REAL = load_template(ROOT / "template.yaml")
FUNCTIONS = sorted(functions(REAL))

Document = dict[str, Any]
Mutation = Callable[[Document], None]


def broken(template: Template, mutate: Mutation) -> Template:
    return edited(template, mutate)


def props(document: Document, name: str) -> dict[str, Any]:
    properties: dict[str, Any] = document["Resources"][name]["Properties"]
    return properties


def first_statement(document: Document, function: str) -> dict[str, Any]:
    statement: dict[str, Any] = props(document, function)["Policies"][0]["Statement"][0]
    return statement


# ---------------------------------------------------------------- streams


def test_a_stream_arn_is_read_only_from_a_table_with_a_stream(template: Template) -> None:
    assert check_stream_arns(template) == []


def _set_env(name: str, value: Any) -> Mutation:
    def mutate(document: Document) -> None:
        props(document, "AuthorizerFunction")["Environment"]["Variables"][name] = value

    return mutate


def _read_stream_of_a_table_without_one(value: Any) -> Mutation:
    def mutate(document: Document) -> None:
        document["Resources"]["CacheTable"] = {
            "Type": "AWS::DynamoDB::Table",
            "Properties": copy.deepcopy(props(document, "AppTable")),
        }
        props(document, "CacheTable").pop("StreamSpecification")
        _set_env("STREAM", value)(document)

    return mutate


STREAM_MUTATIONS = {
    "GetAtt": _read_stream_of_a_table_without_one({"Fn::GetAtt": ["CacheTable", "StreamArn"]}),
    "Sub": _read_stream_of_a_table_without_one({"Fn::Sub": "${CacheTable.StreamArn}/x"}),
    "stream removed from a table that is read": lambda d: props(d, "AppTable").pop(
        "StreamSpecification"
    ),
}


@pytest.mark.parametrize("mutate", STREAM_MUTATIONS.values(), ids=STREAM_MUTATIONS.keys())
def test_stream_arn_check_catches(template: Template, mutate: Mutation) -> None:
    assert check_stream_arns(broken(template, mutate)) != []


# ---------------------------------------------------------------- runtime and architecture


def test_every_function_runs_python312_or_later_on_arm64(template: Template) -> None:
    assert check_function_runtime(template) == []


RUNTIME_MUTATIONS = {
    "own older runtime": lambda t: props(t, "WsPingFunction").update(Runtime="python3.11"),
    "global older runtime": lambda t: t["Globals"]["Function"].update(Runtime="python3.9"),
    "not Python": lambda t: props(t, "WsPingFunction").update(Runtime="nodejs22.x"),
    "own x86_64": lambda t: props(t, "WsPingFunction").update(Architectures=["x86_64"]),
    "no architecture anywhere": lambda t: t["Globals"]["Function"].pop("Architectures"),
}


@pytest.mark.parametrize("mutate", RUNTIME_MUTATIONS.values(), ids=RUNTIME_MUTATIONS.keys())
def test_runtime_check_catches(template: Template, mutate: Mutation) -> None:
    assert check_function_runtime(broken(template, mutate)) != []


def test_runtime_check_accepts_a_newer_python(template: Template) -> None:
    newer = broken(template, lambda t: props(t, "WsPingFunction").update(Runtime="python3.13"))
    assert check_function_runtime(newer) == []


# ---------------------------------------------------------------- handlers and sample events


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_handler_module_defines_its_handler(
    template: Template, root: Path, function: str
) -> None:
    assert check_function_handler(template, root, function) == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_has_sample_events_in_events_dir(
    template: Template, root: Path, function: str
) -> None:
    assert check_sample_events(template, root, function) == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_sample_events_have_the_shape_of_what_invokes_the_function(
    template: Template, root: Path, function: str
) -> None:
    assert check_event_routes(template, root, function) == []


def test_every_sample_event_belongs_to_a_function(template: Template, root: Path) -> None:
    assert check_orphan_events(template, root) == []


GOOD_HANDLER = "def lambda_handler(event, context):\n    return {'statusCode': 200}\n"


@pytest.fixture
def fake_repo(tmp_path: Path, template: Template) -> Path:
    """A copy of the repository's template and events, with a minimal handler per function."""
    for name in functions(template):
        code = tmp_path / "functions" / function_dir(template, name)
        code.mkdir(parents=True, exist_ok=True)
        (code / "app.py").write_text(GOOD_HANDLER)
    shutil.copytree(ROOT / "events", tmp_path / "events")
    return tmp_path


def test_handler_and_event_checks_pass_a_complete_repository(
    template: Template, fake_repo: Path
) -> None:
    problems = [
        problem
        for name in functions(template)
        for check in (check_function_handler, check_sample_events, check_event_routes)
        for problem in check(template, fake_repo, name)
    ]
    assert problems == []
    assert check_orphan_events(template, fake_repo) == []


HANDLER_SOURCES = {
    "no handler": "def handler(event, context):\n    return None\n",
    "handler taking one argument": "def lambda_handler(event):\n    return None\n",
    "handler only nested in a class": "class A:\n    def lambda_handler(self, e, c): ...\n",
    "syntax error": "def lambda_handler(event, context)\n    return None\n",
}


@pytest.mark.parametrize("source", HANDLER_SOURCES.values(), ids=HANDLER_SOURCES.keys())
def test_handler_check_catches(template: Template, fake_repo: Path, source: str) -> None:
    (fake_repo / "functions" / "ws_ping" / "app.py").write_text(source)
    assert check_function_handler(template, fake_repo, "WsPingFunction") != []


def test_handler_check_fails_when_app_py_is_missing(template: Template, fake_repo: Path) -> None:
    (fake_repo / "functions" / "ws_ping" / "app.py").unlink()
    assert check_function_handler(template, fake_repo, "WsPingFunction") != []


def test_handler_check_fails_when_code_uri_is_missing(template: Template, fake_repo: Path) -> None:
    shutil.rmtree(fake_repo / "functions" / "ws_ping")
    assert check_function_handler(template, fake_repo, "WsPingFunction") != []


@pytest.mark.parametrize(
    "source",
    [
        "from parley.handlers import ping as lambda_handler\n",
        "lambda_handler = make_handler()\n",
        "async def lambda_handler(*args):\n    return None\n",
    ],
    ids=["imported under the handler's name", "assigned", "variadic"],
)
def test_handler_check_accepts_other_ways_to_define_it(
    template: Template, fake_repo: Path, source: str
) -> None:
    (fake_repo / "functions" / "ws_ping" / "app.py").write_text(source)
    assert check_function_handler(template, fake_repo, "WsPingFunction") == []


def test_sample_event_check_fails_for_a_function_without_events(
    template: Template, fake_repo: Path
) -> None:
    (fake_repo / "events" / "ws_ping.json").unlink()
    assert check_sample_events(template, fake_repo, "WsPingFunction") != []


def test_sample_event_check_fails_for_an_event_that_is_not_json(
    template: Template, fake_repo: Path
) -> None:
    (fake_repo / "events" / "ws_ping-broken.json").write_text("{")
    assert check_sample_events(template, fake_repo, "WsPingFunction") != []


def test_orphan_event_check_catches_an_event_named_for_no_function(
    template: Template, fake_repo: Path
) -> None:
    (fake_repo / "events" / "ws_pong.json").write_text("{}")
    assert check_orphan_events(template, fake_repo) != []


def _edit_event(repo: Path, name: str, edit: Callable[[dict[str, Any]], None]) -> None:
    path = repo / "events" / name
    event = json.loads(path.read_text())
    edit(event)
    path.write_text(json.dumps(event))


EVENT_MUTATIONS: dict[str, tuple[str, str, Callable[[dict[str, Any]], None]]] = {
    "HTTP route the function lacks": (
        "ApiFunction",
        "api-get-me.json",
        lambda e: e.update(routeKey="GET /you"),
    ),
    "HTTP path not matching its route": (
        "ApiFunction",
        "api-get-channel.json",
        lambda e: e.update(rawPath="/channels"),
    ),
    "HTTP payload format 1.0": (
        "ApiFunction",
        "api-get-me.json",
        lambda e: e.update(version="1.0"),
    ),
    "HTTP event without JWT claims": (
        "ApiFunction",
        "api-get-me.json",
        lambda e: e["requestContext"].pop("authorizer"),
    ),
    "event of a route without authorizer carrying JWT claims": (
        "SlackApiFunction",
        "slack_api-chat-post-message.json",
        lambda e: e["requestContext"].update(authorizer={"jwt": {"claims": {"sub": "x"}}}),
    ),
    "WebSocket event for another route": (
        "WsPingFunction",
        "ws_ping.json",
        lambda e: e["requestContext"].update(routeKey="typing"),
    ),
    "WebSocket event without authorizer context": (
        "WsSendMessageFunction",
        "ws_send_message.json",
        lambda e: e["requestContext"].pop("authorizer"),
    ),
    "WebSocket CONNECT with a MESSAGE eventType": (
        "WsConnectFunction",
        "ws_connect.json",
        lambda e: e["requestContext"].update(eventType="MESSAGE"),
    ),
    "authorizer event without a token": (
        "AuthorizerFunction",
        "authorizer.json",
        lambda e: e["queryStringParameters"].pop("token"),
    ),
    "authorizer event of another type": (
        "AuthorizerFunction",
        "authorizer.json",
        lambda e: e.update(type="TOKEN"),
    ),
    "scheduled event from another source": (
        "PresenceSweepFunction",
        "presence_sweep.json",
        lambda e: e.update(source="aws.s3"),
    ),
    "scheduled event without its rule": (
        "PresenceSweepFunction",
        "presence_sweep.json",
        lambda e: e.update(resources=[]),
    ),
    # The retention sweep has a schedule and a queue: each sample is held to its own shape.
    "queue and schedule: a schedule's event from another source": (
        "RetentionSweepFunction",
        "retention_sweep.json",
        lambda e: e.update(source="aws.s3"),
    ),
    "queue and schedule: records of a stream, not the queue": (
        "RetentionSweepFunction",
        "retention_sweep-channel.json",
        lambda e: e["Records"][0].update(eventSource="aws:dynamodb"),
    ),
    "queue and schedule: an empty Records list": (
        "RetentionSweepFunction",
        "retention_sweep-channel.json",
        lambda e: e.update(Records=[]),
    ),
}


@pytest.mark.parametrize("case", EVENT_MUTATIONS.values(), ids=EVENT_MUTATIONS.keys())
def test_event_shape_check_catches(
    template: Template, fake_repo: Path, case: tuple[str, str, Callable[[dict[str, Any]], None]]
) -> None:
    function, event_file, edit = case
    _edit_event(fake_repo, event_file, edit)
    assert check_event_routes(template, fake_repo, function) != []


# ---------------------------------------------------------------- IAM


def test_no_function_policy_grants_wildcard_actions_or_wildcard_data_resources(
    template: Template,
) -> None:
    assert check_iam_least_privilege(template) == []


IAM_MUTATIONS = {
    "action *": lambda t: first_statement(t, "WsPingFunction").update(Action="*"),
    "service-wide action": lambda t: first_statement(t, "WsPingFunction").update(
        Action=["dynamodb:*"]
    ),
    "DynamoDB on every resource": lambda t: first_statement(t, "WsPingFunction").update(
        Resource="*"
    ),
    "SQS on every resource": lambda t: first_statement(t, "WsPingFunction").update(
        Action=["sqs:SendMessage"], Resource=["*"]
    ),
    "S3 on every resource": lambda t: first_statement(t, "ApiFunction").update(
        Action=["s3:GetObject"], Resource="*"
    ),
    "NotAction": lambda t: first_statement(t, "WsPingFunction").update(NotAction=["iam:*"]),
}


@pytest.mark.parametrize("mutate", IAM_MUTATIONS.values(), ids=IAM_MUTATIONS.keys())
def test_iam_check_catches(template: Template, mutate: Mutation) -> None:
    assert check_iam_least_privilege(broken(template, mutate)) != []


def test_iam_check_allows_star_resource_for_actions_without_resource_scoping(
    template: Template,
) -> None:
    metrics = {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*"}
    mutated = broken(
        template, lambda t: props(t, "WsPingFunction")["Policies"][0]["Statement"].append(metrics)
    )
    assert check_iam_least_privilege(mutated) == []


# ---------------------------------------------------------------- WebSocket wiring


def test_every_websocket_route_has_integration_permission_and_stage_dependency(
    template: Template,
) -> None:
    assert check_websocket_routes(template) == []


def test_websocket_authorizer_may_invoke_its_function(template: Template) -> None:
    assert check_websocket_authorizers(template) == []


def _drop_resource(name: str) -> Mutation:
    return lambda t: t["Resources"].pop(name)


def _stage_without(route: str) -> Mutation:
    def mutate(template: Template) -> None:
        stage = template["Resources"]["WebSocketStage"]
        stage["DependsOn"] = [r for r in stage["DependsOn"] if r != route]

    return mutate


ROUTE_MUTATIONS = {
    "no permission": _drop_resource("PingPermission"),
    "permission for another route": lambda t: props(t, "PingPermission").update(
        SourceArn={"Fn::Sub": "arn:aws:execute-api:r:a:${WebSocketApi}/*/typing"}
    ),
    "route missing from the stage's DependsOn": _stage_without("SendMessageRoute"),
    "no stage": _drop_resource("WebSocketStage"),
    "target naming no integration": lambda t: props(t, "PingRoute").update(
        Target={"Fn::Sub": "integrations/${PingIntegrashun}"}
    ),
    "integration invoking no function": lambda t: props(t, "PingIntegration").update(
        IntegrationUri="arn:aws:apigateway:us-east-1:lambda:path/functions/x/invocations"
    ),
    "route response selected but missing": _drop_resource("PingRouteResponse"),
}


@pytest.mark.parametrize("mutate", ROUTE_MUTATIONS.values(), ids=ROUTE_MUTATIONS.keys())
def test_websocket_route_check_catches(template: Template, mutate: Mutation) -> None:
    assert check_websocket_routes(broken(template, mutate)) != []


def test_websocket_authorizer_check_catches_a_missing_permission(template: Template) -> None:
    assert check_websocket_authorizers(broken(template, _drop_resource("AuthorizerPermission")))


# ---------------------------------------------------------------- buckets


def test_every_bucket_is_private_encrypted_and_tls_only(template: Template) -> None:
    assert check_buckets_private(template) == []


BUCKET_MUTATIONS = {
    "one public access flag off": lambda t: props(t, "FilesBucket")[
        "PublicAccessBlockConfiguration"
    ].update(RestrictPublicBuckets=False),
    "no public access block": lambda t: props(t, "FilesBucket").pop(
        "PublicAccessBlockConfiguration"
    ),
    "no default encryption": lambda t: props(t, "FilesBucket").pop("BucketEncryption"),
    "no TLS-only policy": _drop_resource("FilesBucketTlsOnly"),
    "TLS policy allowing instead of denying": lambda t: props(t, "FilesBucketTlsOnly")[
        "PolicyDocument"
    ]["Statement"][0].update(Effect="Allow"),
}


@pytest.mark.parametrize("mutate", BUCKET_MUTATIONS.values(), ids=BUCKET_MUTATIONS.keys())
def test_bucket_check_catches(template: Template, mutate: Mutation) -> None:
    assert check_buckets_private(broken(template, mutate)) != []


# ---------------------------------------------------------------- Outputs


def test_outputs_that_clients_rely_on_exist(template: Template) -> None:
    assert check_outputs(template) == []


@pytest.mark.parametrize("output", [*REQUIRED_OUTPUTS, "EventsDeadLetterQueueUrl", "DashboardName"])
def test_outputs_check_catches_a_missing(template: Template, output: str) -> None:
    assert check_outputs(broken(template, lambda t: t["Outputs"].pop(output))) != []


def test_outputs_check_catches_a_new_queue_without_its_url(template: Template) -> None:
    new_queue = {"Type": "AWS::SQS::Queue", "Properties": {}}
    assert check_outputs(
        broken(template, lambda t: t["Resources"].update(ThumbnailQueue=new_queue))
    )


# ---------------------------------------------------------------- alarms and dashboard


def test_every_dlq_function_stream_consumer_domain_and_api_has_its_alarms(
    template: Template,
) -> None:
    assert check_alarms(template) == []


def _new_queue_with_dead_letters(document: Document) -> None:
    """A work queue whose failures go to a queue not named as a dead-letter queue."""
    resources = document["Resources"]
    resources["ThumbnailQueue"] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": ["ThumbnailFailures", "Arn"]},
                "maxReceiveCount": 5,
            }
        },
    }
    resources["ThumbnailFailures"] = {"Type": "AWS::SQS::Queue", "Properties": {}}


def _new_function(document: Document) -> None:
    document["Resources"]["WsPongFunction"] = copy.deepcopy(document["Resources"]["WsPingFunction"])


def _new_stream_consumer(document: Document) -> None:
    """A function reading the table's stream, with its error and throttle alarms only."""
    resources = document["Resources"]
    resources["AuditFunction"] = copy.deepcopy(resources["NotifierFunction"])
    for metric in ("Errors", "Throttles"):
        alarm = copy.deepcopy(resources[f"NotifierFunction{metric}Alarm"])
        alarm["Properties"]["Dimensions"][0]["Value"] = {"Ref": "AuditFunction"}
        resources[f"AuditFunction{metric}Alarm"] = alarm


ALARM_MUTATIONS = {
    "a DLQ without its alarm": _drop_resource("IndexDeadLetterQueueAlarm"),
    "a new dead-letter queue without an alarm": _new_queue_with_dead_letters,
    "a DLQ alarm that waits for several messages": lambda t: props(
        t, "ImportDeadLetterQueueAlarm"
    ).update(Threshold=5),
    "a new function without alarms": _new_function,
    "a function without its throttles alarm": _drop_resource("ApiFunctionThrottlesAlarm"),
    "a function's errors alarm on another function": lambda t: props(
        t, "ImportFunctionErrorsAlarm"
    )["Dimensions"][0].update(Value={"Ref": "ApiFunction"}),
    "a stream consumer without an iterator age alarm": _drop_resource(
        "StreamForwarderFunctionIteratorAgeAlarm"
    ),
    "a new stream consumer without an iterator age alarm": _new_stream_consumer,
    "no red cluster alarm": _drop_resource("SearchClusterStatusRedAlarm"),
    "no free storage alarm": _drop_resource("SearchFreeStorageAlarm"),
    "no HTTP API 5xx alarm": _drop_resource("HttpApi5xxRateAlarm"),
    "no WebSocket error rate alarm": _drop_resource("WebSocketErrorRateAlarm"),
    "no failed posts alarm": _drop_resource("ConnectionPostsFailedAlarm"),
    "an alarm that tells no one": lambda t: props(t, "WsPingFunctionErrorsAlarm").pop(
        "AlarmActions"
    ),
    "an alarm that does not say it cleared": lambda t: props(t, "NotifierDeadLetterQueueAlarm").pop(
        "OKActions"
    ),
}


@pytest.mark.parametrize("mutate", ALARM_MUTATIONS.values(), ids=ALARM_MUTATIONS.keys())
def test_alarm_check_catches(template: Template, mutate: Mutation) -> None:
    assert check_alarms(broken(template, mutate)) != []


def test_the_dashboard_and_alarms_read_metrics_the_code_emits(template: Template) -> None:
    assert check_own_metrics(template, ROOT) == []


def _dashboard_body(edit: Callable[[str], str]) -> Mutation:
    def mutate(document: Document) -> None:
        body = props(document, "Dashboard")["DashboardBody"]
        body["Fn::Sub"] = edit(body["Fn::Sub"])

    return mutate


METRIC_MUTATIONS = {
    "a dashboard metric the code does not emit": _dashboard_body(
        lambda b: b.replace('"MessageSent"', '"MessagesSent"')
    ),
    "the dashboard without index lag": _dashboard_body(
        lambda b: b.replace('"SearchIndexLag"', '"SearchChangesIndexed"')
    ),
    "an alarm in another namespace": lambda t: props(t, "ConnectionPostsFailedAlarm").update(
        Namespace="Parley"
    ),
    "no dashboard": _drop_resource("Dashboard"),
    "a dead-letter queue the dashboard does not show": _dashboard_body(
        lambda b: b.replace("${FanoutDeadLetterQueue.QueueName}", "${FanoutQueue.QueueName}")
    ),
}


@pytest.mark.parametrize("mutate", METRIC_MUTATIONS.values(), ids=METRIC_MUTATIONS.keys())
def test_own_metrics_check_catches(template: Template, mutate: Mutation) -> None:
    assert check_own_metrics(broken(template, mutate), ROOT) != []


# ---------------------------------------------------------------- stages and CORS


STAGE_NAMES = ["dev", "prod", "alice", "pr-123", "a" * 20]
BAD_STAGE_NAMES = ["", "Prod", "1st", "-dev", "a" * 21, "dev_alice", "dev.alice"]


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_any_stage_name_deploys_and_fits_the_names_it_makes(template: Template, stage: str) -> None:
    pattern = template.parameters["Stage"]["AllowedPattern"]
    assert re.fullmatch(pattern, stage)
    # OpenSearch domain names: 3 to 28 characters, a-z first.
    assert re.fullmatch(r"[a-z][a-z0-9-]{2,27}", f"parley-{stage}")


@pytest.mark.parametrize("stage", BAD_STAGE_NAMES)
def test_a_stage_name_the_resources_cannot_carry_is_refused(template: Template, stage: str) -> None:
    assert not re.fullmatch(template.parameters["Stage"]["AllowedPattern"], stage)


DEPLOYS = {
    "dev, any origin": ({"Stage": "dev"}, True),
    "dev, named origins": ({"Stage": "dev", "CorsAllowedOrigins": "http://localhost:5173"}, True),
    "prod, any origin (the default)": ({"Stage": "prod"}, False),
    "prod, any origin among others": (
        {"Stage": "prod", "CorsAllowedOrigins": "https://app.example.com,*"},
        False,
    ),
    "prod, named origins": (
        {"Stage": "prod", "CorsAllowedOrigins": "https://app.example.com"},
        True,
    ),
    "a developer's stack, any origin": ({"Stage": "alice"}, False),
    "a developer's stack, localhost": (
        {"Stage": "alice", "CorsAllowedOrigins": "http://localhost:5173"},
        True,
    ),
}


@pytest.mark.parametrize("case", DEPLOYS.values(), ids=DEPLOYS.keys())
def test_every_origin_is_allowed_only_in_dev(
    template: Template, case: tuple[dict[str, str], bool]
) -> None:
    parameters, accepted = case
    assert (rule_violations(template, parameters) == []) is accepted


def test_cors_origins_come_from_the_parameter(template: Template) -> None:
    assert check_cors_origins(template) == []


def _cors_always(origins: list[Any]) -> Callable[[Any], Any]:
    """The HTTP API's CORS configuration, one branch of its If whatever the condition."""
    return lambda t: props(t, "HttpApi").update(
        CorsConfiguration=dict(
            props(t, "HttpApi")["CorsConfiguration"]["Fn::If"][2], AllowOrigins=origins
        )
    )


def _bucket_rule(t: Document) -> dict[str, Any]:
    rule: dict[str, Any] = props(t, "FilesBucket")["CorsConfiguration"]["CorsRules"][0]
    return rule


CORS_MUTATIONS = {
    "HTTP API any origin": _cors_always(["*"]),
    "HTTP API without the web client's origin": _cors_always({"Ref": "CorsAllowedOrigins"}),
    "bucket any origin": lambda t: _bucket_rule(t).update(AllowedOrigins=["*"]),
    "bucket without the web client's origin": lambda t: _bucket_rule(t).update(
        AllowedOrigins={"Ref": "CorsAllowedOrigins"}
    ),
    "the web client's origin beside any origin": lambda t: t["Conditions"].update(
        AddsWebClientOrigin={"Condition": "HostsWebClient"}
    ),
    "the web client's origin with no web client": lambda t: t["Conditions"].update(
        AddsWebClientOrigin={"Fn::Equals": ["1", "1"]}
    ),
}


@pytest.mark.parametrize("mutate", CORS_MUTATIONS.values(), ids=CORS_MUTATIONS.keys())
def test_cors_check_catches(template: Template, mutate: Mutation) -> None:
    assert check_cors_origins(broken(template, mutate)) != []


def test_a_stage_outside_dev_may_host_the_web_client_beside_its_named_origins(
    template: Template,
) -> None:
    hosted = {"Stage": "prod", "HostWebClient": "true"}
    assert rule_violations(template, hosted | {"CorsAllowedOrigins": "https://a.example.com"}) == []
    assert rule_violations(template, hosted) != []


# ---------------------------------------------------------------- the web client (HostWebClient)


def test_the_web_client_is_hosted_only_when_asked(template: Template) -> None:
    assert template.parameters["HostWebClient"]["Default"] == "false"
    assert web_client_resources(template) == {
        "WebBucket",
        "WebBucketPolicy",
        "WebOriginAccessControl",
        "WebSecurityHeaders",
        "WebDistribution",
    }
    assert check_web_client_gated(template) == []


def _without_condition(name: str) -> Mutation:
    return lambda t: t["Resources"][name].pop("Condition")


WEB_GATE_MUTATIONS = {
    **{f"{name} always": _without_condition(name) for name in ("WebBucket", "WebDistribution")},
    "the bucket policy always": _without_condition("WebBucketPolicy"),
    "an output always": lambda t: t["Outputs"]["WebClientUrl"].pop("Condition"),
    "on by default": lambda t: t["Parameters"]["HostWebClient"].update(Default="true"),
    "another condition": lambda t: t["Resources"]["WebOriginAccessControl"].update(
        Condition="HasAlarmEmail"
    ),
}


@pytest.mark.parametrize("mutate", WEB_GATE_MUTATIONS.values(), ids=WEB_GATE_MUTATIONS.keys())
def test_web_client_gate_check_catches(template: Template, mutate: Mutation) -> None:
    assert check_web_client_gated(broken(template, mutate)) != []


def test_the_distribution_reads_its_private_bucket_through_origin_access_control(
    template: Template,
) -> None:
    assert check_web_origin_access(template) == []
    assert check_buckets_private(template) == []


def _origin(t: Document) -> dict[str, Any]:
    origin: dict[str, Any] = props(t, "WebDistribution")["DistributionConfig"]["Origins"][0]
    return origin


def _read_statement(t: Document) -> dict[str, Any]:
    statement: dict[str, Any] = props(t, "WebBucketPolicy")["PolicyDocument"]["Statement"][1]
    return statement


def _with_origin_access_identity(t: Document) -> None:
    t["Resources"]["WebOriginAccessIdentity"] = {
        "Type": "AWS::CloudFront::CloudFrontOriginAccessIdentity",
        "Condition": "HostsWebClient",
        "Properties": {"CloudFrontOriginAccessIdentityConfig": {"Comment": "legacy"}},
    }
    _origin(t).pop("OriginAccessControlId")
    _origin(t)["S3OriginConfig"]["OriginAccessIdentity"] = {
        "Fn::Sub": "origin-access-identity/cloudfront/${WebOriginAccessIdentity}"
    }


ORIGIN_ACCESS_MUTATIONS = {
    "an origin access identity instead": _with_origin_access_identity,
    "no origin access control": lambda t: _origin(t).pop("OriginAccessControlId"),
    "unsigned requests": lambda t: props(t, "WebOriginAccessControl")[
        "OriginAccessControlConfig"
    ].update(SigningBehavior="no-override"),
    "anyone may read the bucket": lambda t: _read_statement(t).update(Principal="*"),
    "any distribution may read it": lambda t: _read_statement(t).pop("Condition"),
    "CloudFront may write too": lambda t: _read_statement(t).update(
        Action=["s3:GetObject", "s3:PutObject"]
    ),
    "no read grant": lambda t: props(t, "WebBucketPolicy")["PolicyDocument"]["Statement"].pop(1),
    "plain HTTP": lambda t: props(t, "WebDistribution")["DistributionConfig"][
        "DefaultCacheBehavior"
    ].update(ViewerProtocolPolicy="allow-all"),
    "no root object": lambda t: props(t, "WebDistribution")["DistributionConfig"].pop(
        "DefaultRootObject"
    ),
}


@pytest.mark.parametrize(
    "mutate", ORIGIN_ACCESS_MUTATIONS.values(), ids=ORIGIN_ACCESS_MUTATIONS.keys()
)
def test_origin_access_check_catches(template: Template, mutate: Mutation) -> None:
    assert check_web_origin_access(broken(template, mutate)) != []


def test_the_web_bucket_is_checked_as_private_as_the_files_bucket(template: Template) -> None:
    public = broken(
        template,
        lambda t: props(t, "WebBucket")["PublicAccessBlockConfiguration"].update(
            BlockPublicPolicy=False
        ),
    )
    assert check_buckets_private(public) != []


# ---------------------------------------------------------------- docs/deploy.md

DEPLOY_DOC = ROOT / "docs" / "deploy.md"


def test_deploy_doc_lists_every_parameter_with_its_default_and_every_output(
    template: Template,
) -> None:
    assert check_deploy_doc(template, DEPLOY_DOC.read_text()) == []


DOC_MUTATIONS: dict[str, Callable[[str], str]] = {
    "a parameter left out": lambda text: text.replace("| `AlarmEmail` |", "| AlarmEmail |"),
    "a default that changed": lambda text: text.replace(
        "| `LogRetentionDays` | `30` |", "| `LogRetentionDays` | `14` |"
    ),
    "an output left out": lambda text: text.replace("`DashboardName`, `DashboardUrl`", "x"),
}


@pytest.mark.parametrize("edit", DOC_MUTATIONS.values(), ids=DOC_MUTATIONS.keys())
def test_deploy_doc_check_catches(template: Template, edit: Callable[[str], str]) -> None:
    text = DEPLOY_DOC.read_text()
    assert edit(text) != text
    assert check_deploy_doc(template, edit(text)) != []


def test_deploy_doc_check_catches_a_new_parameter(template: Template) -> None:
    new = {"Type": "String", "Default": "x"}
    with_new = broken(template, lambda t: t["Parameters"].update(FanOutConcurrency=new))
    assert check_deploy_doc(with_new, DEPLOY_DOC.read_text()) != []
