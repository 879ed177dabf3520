"""Checks of template.yaml that cfn-lint cannot make, each a function of the template as the
local runtime reads it (local.template: one loader, SAM's Globals merged into each resource)
and, where it needs files, of the repository root, returning a list of problems, one
readable sentence each; an empty list means the template passes. The tests run each check
on the real template and on broken copies, so a check that could never fail shows up as a
failing test.

Whether every Ref, GetAtt and Sub names a parameter, a resource or an attribute it has is
cfn-lint's (E1010, E1019, E1020, E6001), on template.yaml and on its SAM transform:
test_template_lint.py. Left here is what no linter knows: Parley's runtime and
architecture, handlers and sample events on disk, least privilege, private buckets, the
WebSocket API's wiring, the Outputs clients read, and a table's StreamArn read without a
stream.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from local.intrinsics import Resolver, references
from local.template import Resource, Template

ROOT = Path(__file__).resolve().parents[2]

REQUIRED_OUTPUTS = (
    # API.md, "Finding the stack": what clients read.
    "HttpApiUrl",
    "WebSocketUrl",
    "UserPoolId",
    "UserPoolClientId",
    # What the operator tools read (`make reindex`, `make redrive` with --stack).
    "TableName",
    "SearchEndpoint",
    "IndexQueueUrl",
    "IndexDeadLetterQueueUrl",
)
# Resources an operator looks at: each must be some output's Ref.
OPERATED_TYPES = (
    "AWS::SQS::Queue",
    "AWS::S3::Bucket",
    "AWS::SNS::Topic",
    "AWS::CloudWatch::Dashboard",
)
MIN_PYTHON = (3, 12)
DATA_SERVICES = ("dynamodb", "s3", "sqs")
FUNCTION = "AWS::Serverless::Function"

# ${Table.StreamArn} in a Sub.
_SUB_STREAM_ARN = re.compile(r"\$\{\s*([A-Za-z0-9]+)\.StreamArn\s*\}")


# ---------------------------------------------------------------- loading


def load_template(path: Path = ROOT / "template.yaml") -> Template:
    return Template.load(path)


def edited(template: Template, edit: Callable[[dict[str, Any]], None]) -> Template:
    """A copy of the template whose document `edit` changed, read again (Globals and all)."""
    document = copy.deepcopy(dict(template.document))
    edit(document)
    return Template(document, template.root)


# ---------------------------------------------------------------- reading


def of_type(template: Template, type_name: str) -> dict[str, Resource]:
    return {resource.logical_id: resource for resource in template.of_type(type_name)}


def functions(template: Template) -> dict[str, Resource]:
    return of_type(template, FUNCTION)


def function_dir(template: Template, name: str) -> str:
    code_uri = template.resources[name].properties.get("CodeUri")
    assert isinstance(code_uri, str), f"{name}: CodeUri must be a local path"
    return Path(code_uri).name


def handler_location(template: Template, name: str) -> tuple[str, str]:
    """`app.lambda_handler` -> ("app.py", "lambda_handler"); `pkg.mod.fn` -> ("pkg/mod.py", ...)."""
    handler = template.resources[name].properties.get("Handler")
    assert isinstance(handler, str), f"{name}: Handler must be a string"
    module, _, attribute = handler.rpartition(".")
    return module.replace(".", "/") + ".py", attribute


def _values(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _values(value)
    elif isinstance(node, list):
        for value in node:
            yield from _values(value)


def _intrinsic(node: Any, name: str) -> Any:
    if isinstance(node, dict) and len(node) == 1 and name in node:
        return node[name]
    return None


def ref_target(node: Any) -> str | None:
    target = _intrinsic(node, "Ref")
    return target if isinstance(target, str) else None


def _sub_text(value: Any) -> str:
    """Fn::Sub's string (the list form's first item)."""
    return str(value[0] if isinstance(value, list) and value else value)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _events(template: Template, name: str) -> list[dict[str, Any]]:
    """A function's SAM events."""
    return list((template.resources[name].properties.get("Events") or {}).values())


# ---------------------------------------------------------------- checks: streams


def _stream_arns_read(node: Any) -> set[str]:
    """The resources whose StreamArn a value reads, with GetAtt or in a Sub."""
    found = set()
    for value in _values(node):
        getatt = _intrinsic(value, "Fn::GetAtt")
        if isinstance(getatt, list) and len(getatt) == 2 and getatt[1] == "StreamArn":
            found.add(str(getatt[0]))
        sub = _intrinsic(value, "Fn::Sub")
        if sub is not None:
            found.update(_SUB_STREAM_ARN.findall(_sub_text(sub)))
    return found


def check_stream_arns(template: Template) -> list[str]:
    """A table's StreamArn is read only where the table has a stream (cfn-lint knows the
    attribute, not that it needs StreamSpecification; CloudFormation fails the deploy)."""
    problems = []
    for name in sorted(_stream_arns_read(template.document)):
        table = template.resources.get(name)
        if table is not None and not table.properties.get("StreamSpecification"):
            problems.append(f"{name}.StreamArn is read, but {name} has no StreamSpecification")
    return problems


# ---------------------------------------------------------------- checks: functions


def _python_version(runtime: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"python(\d+)\.(\d+)", runtime)
    return (int(match[1]), int(match[2])) if match else None


def check_function_runtime(template: Template) -> list[str]:
    """Every function runs Python 3.12 or later on arm64 (its own setting or Globals)."""
    problems = []
    for name in functions(template):
        properties = template.resources[name].properties
        runtime = str(properties.get("Runtime"))
        version = _python_version(runtime)
        if version is None or version < MIN_PYTHON:
            problems.append(f"{name}: Runtime {runtime!r}, want python3.12 or later")
        architectures = properties.get("Architectures")
        if architectures != ["arm64"]:
            problems.append(f"{name}: Architectures {architectures!r}, want ['arm64']")
    return problems


def _defines_handler(source: ast.Module, attribute: str) -> str | None:
    """None if the module defines `attribute` as a handler, else what is wrong."""
    for statement in source.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            if statement.name != attribute:
                continue
            arguments = statement.args
            positional = len(arguments.posonlyargs) + len(arguments.args)
            if positional < 2 and arguments.vararg is None:
                return f"{attribute}() must take (event, context)"
            return None
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == attribute for target in statement.targets
        ):
            return None
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and statement.target.id == attribute
        ):
            return None
        if isinstance(statement, ast.ImportFrom) and any(
            (alias.asname or alias.name) == attribute for alias in statement.names
        ):
            return None
    return f"defines no top-level {attribute}"


def check_function_handler(template: Template, root: Path, name: str) -> list[str]:
    """The function's CodeUri is a directory holding its handler module and function."""
    code_uri = template.resources[name].properties.get("CodeUri")
    if not isinstance(code_uri, str):
        return [f"{name}: CodeUri {code_uri!r} is not a local directory"]
    code_dir = root / code_uri
    if not code_dir.is_dir():
        return [f"{name}: CodeUri {code_uri} is not a directory"]
    module_file, attribute = handler_location(template, name)
    module_path = code_dir / module_file
    if not module_path.is_file():
        return [f"{name}: handler module {code_uri}/{module_file} does not exist"]
    try:
        module = ast.parse(module_path.read_text(), filename=str(module_path))
    except SyntaxError as error:
        return [f"{name}: {code_uri}/{module_file} does not parse: {error}"]
    wrong = _defines_handler(module, attribute)
    return [f"{name}: {code_uri}/{module_file} {wrong}"] if wrong else []


def sample_events(root: Path, directory: str) -> list[Path]:
    """events/<function dir>.json and events/<function dir>-<variant>.json."""
    events = root / "events"
    return sorted([*events.glob(f"{directory}.json"), *events.glob(f"{directory}-*.json")])


def check_sample_events(template: Template, root: Path, name: str) -> list[str]:
    """The function has at least one sample event, and each one is a JSON object."""
    directory = function_dir(template, name)
    found = sample_events(root, directory)
    if not found:
        return [f"{name}: no sample event events/{directory}.json or events/{directory}-*.json"]
    problems = []
    for path in found:
        try:
            event = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            problems.append(f"{path.name}: not JSON: {error}")
            continue
        if not isinstance(event, dict):
            problems.append(f"{path.name}: an event is a JSON object")
    return problems


def check_orphan_events(template: Template, root: Path) -> list[str]:
    """Every events/*.json belongs to a function (its name starts with the function's dir)."""
    directories = {function_dir(template, name) for name in functions(template)}
    problems = []
    for path in sorted((root / "events").glob("*.json")):
        if not any(path.stem == d or path.stem.startswith(f"{d}-") for d in directories):
            problems.append(f"{path.name}: names no function directory {sorted(directories)}")
    return problems


# ---------------------------------------------------------------- checks: IAM


def _statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in of_type(template, "AWS::IAM::ManagedPolicy").items():
        document = resource.properties.get("PolicyDocument") or {}
        for number, statement in enumerate(_as_list(document.get("Statement"))):
            yield f"{name} statement {number}", statement
    for name in functions(template):
        policies = template.resources[name].properties.get("Policies")
        for index, policy in enumerate(_as_list(policies)):
            if isinstance(policy, dict) and "Statement" in policy:
                for number, statement in enumerate(_as_list(policy["Statement"])):
                    yield f"{name} policy {index} statement {number}", statement


def check_iam_least_privilege(template: Template) -> list[str]:
    """No function statement allows `*` actions, or `*` resources for DynamoDB, S3 or SQS."""
    problems = []
    for where, statement in _statements(template):
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"{where}: NotAction/NotResource grant everything else")
        actions = [str(a) for a in _as_list(statement.get("Action"))]
        wildcards = [a for a in actions if a == "*" or a.endswith(":*")]
        if wildcards:
            problems.append(f"{where}: wildcard actions {wildcards}")
        on_data = [a for a in actions if a.split(":", 1)[0].lower() in DATA_SERVICES]
        if on_data and "*" in _as_list(statement.get("Resource")):
            problems.append(f"{where}: Resource '*' for data actions {on_data}")
    return problems


_BLOCK_PUBLIC_ACCESS = (
    "BlockPublicAcls",
    "BlockPublicPolicy",
    "IgnorePublicAcls",
    "RestrictPublicBuckets",
)


def _denies_insecure_transport(template: Template, bucket: str) -> bool:
    for policy in template.of_type("AWS::S3::BucketPolicy"):
        properties = policy.properties
        if ref_target(properties.get("Bucket")) != bucket:
            continue
        for statement in _as_list((properties.get("PolicyDocument") or {}).get("Statement")):
            condition = (statement.get("Condition") or {}).get("Bool") or {}
            if statement.get("Effect") == "Deny" and str(
                condition.get("aws:SecureTransport")
            ).lower() in ("false", "0"):
                return True
    return False


def check_buckets_private(template: Template) -> list[str]:
    """Every bucket blocks public access in all four ways, encrypts by default, and refuses
    requests that are not over TLS."""
    problems = []
    for name, bucket in of_type(template, "AWS::S3::Bucket").items():
        properties = bucket.properties
        block = properties.get("PublicAccessBlockConfiguration") or {}
        open_flags = [flag for flag in _BLOCK_PUBLIC_ACCESS if block.get(flag) is not True]
        if open_flags:
            problems.append(f"{name}: Block Public Access is off for {open_flags}")
        rules = (properties.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration")
        if not rules:
            problems.append(f"{name}: no default encryption")
        if not _denies_insecure_transport(template, name):
            problems.append(f"{name}: no bucket policy denies requests without TLS")
    return problems


# ---------------------------------------------------------------- checks: WebSocket wiring


def _websocket_apis(template: Template) -> set[str]:
    return {
        name
        for name, r in of_type(template, "AWS::ApiGatewayV2::Api").items()
        if r.properties.get("ProtocolType") == "WEBSOCKET"
    }


def _invoked_function(template: Template, uri: Any) -> str | None:
    """The function an integration or authorizer URI points at (via ${Function.Arn})."""
    candidates = references(uri) & set(functions(template))
    return next(iter(candidates)) if len(candidates) == 1 else None


def _permissions_for(template: Template, function: str) -> list[dict[str, Any]]:
    found = []
    for permission in template.of_type("AWS::Lambda::Permission"):
        properties = permission.properties
        if function in references(properties.get("FunctionName")) and (
            properties.get("Principal") == "apigateway.amazonaws.com"
            and properties.get("Action") == "lambda:InvokeFunction"
        ):
            found.append(properties)
    return found


def _integrations_named(target: Any) -> set[str]:
    """What a route's `Target: !Sub integrations/${Integration}` names."""
    return references(target) if _intrinsic(target, "Fn::Sub") is not None else set()


def _source_arn(permission: dict[str, Any]) -> str:
    arn = _intrinsic(permission.get("SourceArn"), "Fn::Sub")
    return _sub_text(arn) if arn is not None else str(permission.get("SourceArn"))


def check_websocket_routes(template: Template) -> list[str]:
    """Each WebSocket route has an integration to a function that API Gateway may invoke,
    a route response where it selects one, and is in its stage's DependsOn."""
    apis = _websocket_apis(template)
    stages = of_type(template, "AWS::ApiGatewayV2::Stage")
    responses = template.of_type("AWS::ApiGatewayV2::RouteResponse")
    problems = []
    for name, route in of_type(template, "AWS::ApiGatewayV2::Route").items():
        properties = route.properties
        api = ref_target(properties.get("ApiId"))
        if api not in apis:
            continue
        key = properties.get("RouteKey")
        integrations = sorted(_integrations_named(properties.get("Target")))
        integration = template.resources.get(integrations[0]) if len(integrations) == 1 else None
        if integration is None or integration.type != "AWS::ApiGatewayV2::Integration":
            problems.append(f"{name} ({key}): Target is not integrations/${{<Integration>}}")
        else:
            integration_properties = integration.properties
            if ref_target(integration_properties.get("ApiId")) != api:
                problems.append(f"{name} ({key}): its integration belongs to another API")
            function = _invoked_function(template, integration_properties.get("IntegrationUri"))
            if function is None:
                problems.append(f"{name} ({key}): its integration invokes no template function")
            elif not any(
                api in references(p.get("SourceArn"))
                and (_source_arn(p).endswith(f"/{key}") or _source_arn(p).endswith("/*"))
                for p in _permissions_for(template, function)
            ):
                problems.append(
                    f"{name} ({key}): no AWS::Lambda::Permission lets API Gateway invoke "
                    f"{function} for this route"
                )
        if "RouteResponseSelectionExpression" in properties and not any(
            ref_target(r.properties.get("RouteId")) == name for r in responses
        ):
            problems.append(f"{name} ({key}): selects a route response but has none")
        api_stages = {
            s: r for s, r in stages.items() if ref_target(r.properties.get("ApiId")) == api
        }
        if not api_stages:
            problems.append(f"{name} ({key}): {api} has no stage")
        for stage_name, stage in api_stages.items():
            if name not in stage.depends_on:
                problems.append(f"{name} ({key}): missing from {stage_name}'s DependsOn")
    return problems


def check_websocket_authorizers(template: Template) -> list[str]:
    """Each WebSocket Lambda authorizer's function may be invoked by API Gateway for it."""
    apis = _websocket_apis(template)
    problems = []
    for name, authorizer in of_type(template, "AWS::ApiGatewayV2::Authorizer").items():
        properties = authorizer.properties
        if ref_target(properties.get("ApiId")) not in apis:
            continue
        function = _invoked_function(template, properties.get("AuthorizerUri"))
        if function is None:
            problems.append(f"{name}: AuthorizerUri invokes no template function")
        elif not any(
            name in references(p.get("SourceArn")) for p in _permissions_for(template, function)
        ):
            problems.append(f"{name}: no AWS::Lambda::Permission lets it invoke {function}")
    return problems


# ---------------------------------------------------------------- checks: outputs


def check_outputs(template: Template) -> list[str]:
    """The Outputs that clients, docs/deploy.md and the operator tools rely on exist (API.md,
    Finding the stack), and every queue, bucket, topic and dashboard is one's Ref."""
    problems = [f"Outputs lack {name}" for name in REQUIRED_OUTPUTS if name not in template.outputs]
    given = {ref_target(output.get("Value")) for output in template.outputs.values()}
    for type_name in OPERATED_TYPES:
        for name in sorted(set(of_type(template, type_name)) - given):
            problems.append(f"{name}: no output gives its {type_name.rsplit('::', 1)[1]}")
    return problems


# ---------------------------------------------------------------- checks: sample event shapes


def _path_pattern(path: str) -> str:
    """/channels/{cid} -> /channels/[^/]+ ; a greedy {proxy+} takes the rest of the path."""
    segments = []
    for segment in path.split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            segments.append(".+")
        elif segment.startswith("{") and segment.endswith("}"):
            segments.append("[^/]+")
        else:
            segments.append(re.escape(segment))
    return "/".join(segments)


def http_routes(template: Template, name: str) -> dict[str, str]:
    """The function's HttpApi route keys ("GET /me"; "$default" for the catch-all), each
    mapped to a regex matching the paths that route takes."""
    routes = {}
    for event in _events(template, name):
        if event.get("Type") != "HttpApi":
            continue
        properties = event.get("Properties") or {}
        method, path = properties.get("Method"), properties.get("Path")
        if method is None and path is None:
            routes["$default"] = ".*"
        else:
            routes[f"{str(method).upper()} {path}"] = _path_pattern(str(path))
    return routes


def routes_without_authorizer(template: Template, name: str) -> set[str]:
    """The function's HttpApi route keys whose event sets `Auth.Authorizer: NONE`."""
    return {
        f"{str(props.get('Method')).upper()} {props.get('Path')}"
        for event in _events(template, name)
        if event.get("Type") == "HttpApi"
        and ((props := event.get("Properties") or {}).get("Auth") or {}).get("Authorizer") == "NONE"
    }


def websocket_route_keys(template: Template, name: str) -> set[str]:
    """The WebSocket route keys whose integration invokes the function."""
    keys = set()
    integrations = of_type(template, "AWS::ApiGatewayV2::Integration")
    for route in template.of_type("AWS::ApiGatewayV2::Route"):
        properties = route.properties
        for variable in _integrations_named(properties.get("Target")):
            integration = integrations.get(variable)
            uri = integration.properties.get("IntegrationUri") if integration else None
            if uri is not None and _invoked_function(template, uri) == name:
                keys.add(str(properties.get("RouteKey")))
    return keys


def authorizer_query_parameters(template: Template, name: str) -> set[str] | None:
    """The query string identity sources of the WebSocket authorizer the function serves,
    or None when it serves none."""
    for authorizer in template.of_type("AWS::ApiGatewayV2::Authorizer"):
        properties = authorizer.properties
        if _invoked_function(template, properties.get("AuthorizerUri")) == name:
            prefix = "route.request.querystring."
            sources = [str(s) for s in _as_list(properties.get("IdentitySource"))]
            return {s.removeprefix(prefix) for s in sources if s.startswith(prefix)}
    return None


def _http_event_problems(
    event: dict[str, Any], routes: dict[str, str], open_routes: set[str]
) -> list[str]:
    route_key = event.get("routeKey")
    if event.get("version") != "2.0":
        return ["not HTTP API payload format 2.0"]
    if route_key not in routes:
        return [f"routeKey {route_key!r} is none of the function's routes {sorted(routes)}"]
    context = event.get("requestContext") or {}
    problems = []
    if context.get("routeKey") != route_key:
        problems.append("requestContext.routeKey differs from routeKey")
    raw_path = str(event.get("rawPath"))
    if not re.fullmatch(routes[route_key], raw_path):
        problems.append(f"rawPath {raw_path!r} does not match {route_key!r}")
    if (context.get("http") or {}).get("path") != raw_path:
        problems.append("requestContext.http.path differs from rawPath")
    method = (context.get("http") or {}).get("method")
    if route_key != "$default" and method != str(route_key).split(" ", 1)[0]:
        problems.append(f"requestContext.http.method {method!r} differs from the route's")
    authorizer = context.get("authorizer")
    if route_key in open_routes:
        if authorizer is not None:
            problems.append("a route without authorizer gets no requestContext.authorizer")
        return problems
    claims = ((authorizer or {}).get("jwt") or {}).get("claims") or {}
    missing = {"sub", "iss", "aud", "token_use"} - set(claims)
    if missing:
        problems.append(f"JWT claims lack {sorted(missing)}")
    return problems


def _websocket_event_problems(event: dict[str, Any], keys: set[str]) -> list[str]:
    context = event.get("requestContext") or {}
    route_key = context.get("routeKey")
    if route_key not in keys:
        return [f"requestContext.routeKey {route_key!r} is none of {sorted(keys)}"]
    expected_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
    problems = []
    if context.get("eventType") != expected_type:
        problems.append(f"eventType {context.get('eventType')!r}, want {expected_type}")
    if not context.get("connectionId"):
        problems.append("no requestContext.connectionId")
    authorizer = context.get("authorizer") or {}
    if not authorizer.get("userId") or authorizer.get("principalId") != authorizer.get("userId"):
        problems.append("requestContext.authorizer needs userId, and principalId equal to it")
    if not authorizer.get("workspaceId"):
        problems.append("requestContext.authorizer needs workspaceId")
    if expected_type == "MESSAGE" and not isinstance(event.get("body"), str):
        problems.append("a MESSAGE event's body is a string")
    return problems


def _authorizer_event_problems(event: dict[str, Any], parameters: set[str]) -> list[str]:
    problems = []
    if event.get("type") != "REQUEST":
        problems.append("a REQUEST authorizer event has type REQUEST")
    if not str(event.get("methodArn", "")).startswith("arn:aws:execute-api:"):
        problems.append("methodArn is not an execute-api ARN")
    # API Gateway answers 401 itself when an identity source is missing: the function only
    # ever sees events that carry them all.
    missing = parameters - set(event.get("queryStringParameters") or {})
    if missing:
        problems.append(f"queryStringParameters lack the identity sources {sorted(missing)}")
    return problems


_RECORD_SOURCES = {"DynamoDB": "aws:dynamodb", "SQS": "aws:sqs"}


def record_sources(template: Template, name: str) -> set[str]:
    """The eventSource of the records that the function's stream and queue events deliver."""
    return {
        _RECORD_SOURCES[event["Type"]]
        for event in _events(template, name)
        if event.get("Type") in _RECORD_SOURCES
    }


def _record_event_problems(event: dict[str, Any], sources: set[str]) -> list[str]:
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        return ["a stream or queue event has a non-empty Records list"]
    return [
        f"record {position} comes from {record.get('eventSource')!r}, not {sorted(sources)}"
        for position, record in enumerate(records)
        if record.get("eventSource") not in sources
    ]


def is_scheduled(template: Template, name: str) -> bool:
    return any(event.get("Type") in ("Schedule", "ScheduleV2") for event in _events(template, name))


def is_schedule_target(template: Template, name: str) -> bool:
    """Whether EventBridge Scheduler invokes the function: a role that Scheduler assumes
    may invoke it, by its own policies or a policy resource attached to it (its one-time
    schedules are made at run time, not in the template)."""
    for role_name, role in of_type(template, "AWS::IAM::Role").items():
        trust = json.dumps(role.properties.get("AssumeRolePolicyDocument", {}))
        if "scheduler.amazonaws.com" not in trust:
            continue
        policies = [json.dumps(role.properties.get("Policies", []))]
        for kind in ("AWS::IAM::RolePolicy", "AWS::IAM::Policy"):
            for attached in of_type(template, kind).values():
                roles = json.dumps(
                    [attached.properties.get("RoleName"), attached.properties.get("Roles")]
                )
                if f'"{role_name}"' in roles:
                    policies.append(json.dumps(attached.properties.get("PolicyDocument", {})))
        if any(f'"{name}"' in policy for policy in policies):
            return True
    return False


def _schedule_input_problems(event: Any) -> list[str]:
    if not isinstance(event, dict) or not event:
        return ["a schedule's Input is the event: a JSON object"]
    if event.get("source") == "aws.events":
        return ["Scheduler hands its target the schedule's Input, not an EventBridge event"]
    return []


def _scheduled_event_problems(event: dict[str, Any]) -> list[str]:
    problems = []
    if event.get("source") != "aws.events" or event.get("detail-type") != "Scheduled Event":
        problems.append("a schedule's event has source aws.events, detail-type Scheduled Event")
    resources_ = event.get("resources")
    if not resources_ or not str(resources_[0]).startswith("arn:aws:events:"):
        problems.append("a scheduled event names its rule in resources")
    return problems


def check_event_routes(template: Template, root: Path, name: str) -> list[str]:
    """Each sample event has the shape of what invokes the function: an HTTP API route of
    the function, its WebSocket route, its authorizer, its stream's or queue's records, or
    its schedule's event."""
    routes = http_routes(template, name)
    keys = websocket_route_keys(template, name)
    parameters = authorizer_query_parameters(template, name)
    sources = record_sources(template, name)
    scheduled = is_scheduled(template, name)
    schedule_target = is_schedule_target(template, name)
    problems = []
    for path in sample_events(root, function_dir(template, name)):
        event = json.loads(path.read_text())
        if routes:
            found = _http_event_problems(event, routes, routes_without_authorizer(template, name))
        elif keys:
            found = _websocket_event_problems(event, keys)
        elif parameters is not None:
            found = _authorizer_event_problems(event, parameters)
        elif sources and not (scheduled and "Records" not in event):
            # A function fed by a queue and a schedule (the retention sweep) has samples of
            # both: a sample without Records is its schedule's.
            found = _record_event_problems(event, sources)
        elif scheduled:
            found = _scheduled_event_problems(event)
        elif schedule_target:
            found = _schedule_input_problems(event)
        else:
            found = ["the template gives the function no route, authorizer, records or schedule"]
        problems.extend(f"{path.name}: {problem}" for problem in found)
    return problems


# ---------------------------------------------------------------- checks: alarms and dashboard

ALARM = "AWS::CloudWatch::Alarm"
QUEUE = "AWS::SQS::Queue"
STREAM_EVENT_TYPES = ("DynamoDB", "Kinesis")
# Where a template names a dead-letter queue: SQS redrive, event source and async failures,
# EventBridge's undeliverable events.
_DEAD_LETTER_KEYS = ("deadLetterTargetArn", "Destination", "DeadLetterConfig")
_METRIC_NAME = re.compile(r"add_metric\(\s*(f?)\"([^\"]+)\"")


def _target(node: Any) -> Any:
    """A dimension's value: the logical id it refers to (Ref, GetAtt, one-name Sub), else itself."""
    if ref_target(node):
        return ref_target(node)
    get_att = _intrinsic(node, "Fn::GetAtt")
    if get_att is not None:
        return (get_att.split(".", 1) if isinstance(get_att, str) else get_att)[0]
    sub = _intrinsic(node, "Fn::Sub")
    if isinstance(sub, str):
        return sub
    return node


def dead_letter_queues(template: Template) -> set[str]:
    """The queues that something sends its failures to, and any queue named as one."""
    queues = set(of_type(template, QUEUE))
    found = {name for name in queues if "DeadLetter" in name}
    for resource in template.resources.values():
        for node in _values(resource.properties):
            for key in _DEAD_LETTER_KEYS if isinstance(node, dict) else ():
                value = node.get(key)
                if isinstance(value, dict) and "Arn" in value:  # DeadLetterConfig: {Arn}
                    value = value["Arn"]
                target = _target(value)
                if isinstance(target, str) and target in queues:
                    found.add(target)
    return found


def _watched(properties: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, {dimension: target}) for each metric an alarm reads."""
    stats = [properties] if "MetricName" in properties else []
    stats += [
        q["MetricStat"]["Metric"] for q in properties.get("Metrics") or [] if "MetricStat" in q
    ]
    return [
        (
            str(_target(stat.get("Namespace"))),
            str(stat.get("MetricName")),
            {d["Name"]: _target(d["Value"]) for d in stat.get("Dimensions") or []},
        )
        for stat in stats
    ]


def _alarms_on(template: Template, namespace: str, metric: str, dimension: str) -> dict[str, Any]:
    """The alarms on `metric`, each with the target of its `dimension`."""
    return {
        name: dimensions.get(dimension)
        for name, alarm in of_type(template, ALARM).items()
        for ns, watched, dimensions in _watched(alarm.properties)
        if ns == namespace and watched == metric
    }


def _alarmed(template: Template, namespace: str, metric: str, dimension: str) -> set[Any]:
    return set(_alarms_on(template, namespace, metric, dimension).values())


def _dlq_alarm_problems(template: Template) -> list[str]:
    problems = []
    dlq_alarms = _alarms_on(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
    for queue in sorted(dead_letter_queues(template)):
        matching = [a for a, target in dlq_alarms.items() if target == queue]
        if not matching:
            problems.append(f"{queue}: a dead-letter queue without an alarm on its messages")
        for name in matching:
            props = template.resources[name].properties
            if (props.get("Threshold"), props.get("ComparisonOperator")) != (
                0,
                "GreaterThanThreshold",
            ):
                problems.append(f"{name}: must fire on any message visible (> 0)")
    return problems


def _function_alarm_problems(template: Template) -> list[str]:
    problems = []
    for metric in ("Errors", "Throttles"):
        covered = _alarmed(template, "AWS/Lambda", metric, "FunctionName")
        problems += [
            f"{f}: no alarm on its {metric}"
            for f in sorted(functions(template))
            if f not in covered
        ]
    aged = _alarmed(template, "AWS/Lambda", "IteratorAge", "FunctionName")
    for name in sorted(functions(template)):
        reads_stream = any(e.get("Type") in STREAM_EVENT_TYPES for e in _events(template, name))
        if reads_stream and name not in aged:
            problems.append(f"{name}: a stream consumer without an IteratorAge alarm")
    return problems


def _service_alarm_problems(template: Template) -> list[str]:
    problems = [
        f"{domain}: no {metric} alarm"
        for domain in sorted(of_type(template, "AWS::OpenSearchService::Domain"))
        for metric in ("ClusterStatus.red", "ClusterStatus.yellow", "FreeStorageSpace")
        if domain not in _alarmed(template, "AWS/ES", metric, "DomainName")
    ]
    server_errors = _alarmed(template, "AWS/ApiGateway", "5xx", "ApiId") | _alarmed(
        template, "AWS/ApiGateway", "ExecutionError", "ApiId"
    )
    apis = {*of_type(template, "AWS::Serverless::HttpApi"), *_websocket_apis(template)}
    problems += [f"{api}: no alarm on its 5xx rate" for api in sorted(apis - server_errors)]
    if not any(
        metric == "ConnectionPostsFailed"
        for alarm in of_type(template, ALARM).values()
        for _, metric, _ in _watched(alarm.properties)
    ):
        problems.append("no alarm on ConnectionPostsFailed (failed @connections posts)")
    return problems


def check_alarms(template: Template) -> list[str]:
    """Every DLQ, function, stream consumer, search domain and API has its alarms, and every
    alarm tells an SNS topic when it fires and when it clears."""
    problems = [
        *_dlq_alarm_problems(template),
        *_function_alarm_problems(template),
        *_service_alarm_problems(template),
    ]
    topics = set(of_type(template, "AWS::SNS::Topic"))
    for name, alarm in sorted(of_type(template, ALARM).items()):
        for key in ("AlarmActions", "OKActions"):
            if not {ref_target(a) for a in _as_list(alarm.properties.get(key))} & topics:
                problems.append(f"{name}: its {key} notify no SNS topic of the template")
    return problems


def emitted_metrics(root: Path) -> list[re.Pattern[str]]:
    """The metric names the code emits (`metrics.add_metric("Name", ...)`), as patterns: an
    f-string's fields match any word."""
    patterns = []
    for path in sorted((root / "layers" / "parley" / "parley").rglob("*.py")):
        for is_f, name in _METRIC_NAME.findall(path.read_text()):
            parts = re.split(r"\{[^}]*\}", name) if is_f else [name]
            patterns.append(re.compile(r"\w+".join(re.escape(p) for p in parts)))
    return patterns


def dashboard_metrics(template: Template) -> dict[str, list[tuple[str, str]]]:
    """Each dashboard's (namespace, metric) pairs, its body's `${...}` left as written."""
    found: dict[str, list[tuple[str, str]]] = {}
    for name, dashboard in of_type(template, "AWS::CloudWatch::Dashboard").items():
        body = dashboard.properties["DashboardBody"]
        text = _sub_text(_intrinsic(body, "Fn::Sub")) if isinstance(body, dict) else str(body)
        widgets = json.loads(text)["widgets"]
        found[name] = [
            (str(metric[0]), str(metric[1]))
            for widget in widgets
            for metric in widget.get("properties", {}).get("metrics", [])
            if isinstance(metric[0], str) and not metric[0].startswith("{")
        ]
    return found


def check_own_metrics(template: Template, root: Path) -> list[str]:
    """The dashboard shows, and the alarms read, only metrics that the code emits (in the
    namespace the functions' POWERTOOLS_METRICS_NAMESPACE names); the dashboard shows the
    issue's five: messages sent, events delivered, connections pruned, index lag,
    notifications."""
    namespace = _target(
        template.document["Globals"]["Function"]["Environment"]["Variables"].get(
            "POWERTOOLS_METRICS_NAMESPACE"
        )
    )
    emitted = emitted_metrics(root)
    problems = []
    used = [
        (f"{name} (dashboard)", ns, metric)
        for name, pairs in dashboard_metrics(template).items()
        for ns, metric in pairs
    ] + [
        (name, ns, metric)
        for name, alarm in of_type(template, ALARM).items()
        for ns, metric, _ in _watched(alarm.properties)
    ]
    own = set()
    for where, ns, metric in used:
        if ns.startswith("AWS/"):
            continue
        if ns != namespace:
            problems.append(f"{where}: namespace {ns!r} is not the functions' {namespace!r}")
        elif not any(p.fullmatch(metric) for p in emitted):
            problems.append(f"{where}: {metric} is not a metric the code emits")
        own.add(metric)
    if not dashboard_metrics(template):
        problems.append("no AWS::CloudWatch::Dashboard")
    shown = {m for pairs in dashboard_metrics(template).values() for _, m in pairs}
    for metric in ("MessageSent", "EventsDelivered", "ConnectionsPruned", "SearchIndexLag"):
        if metric not in shown:
            problems.append(f"the dashboard does not show {metric}")
    if not any(m.startswith("Notification") for m in shown):
        problems.append("the dashboard shows no notifications metric")
    bodies = " ".join(
        str(d.properties["DashboardBody"])
        for d in of_type(template, "AWS::CloudWatch::Dashboard").values()
    )
    for name in of_type(template, "AWS::SQS::Queue"):
        if "DeadLetter" in name and f"${{{name}.QueueName}}" not in bodies:
            problems.append(f"the dashboard does not show the dead-letter queue {name}")
    return problems


# ---------------------------------------------------------------- checks: stages and CORS


_RULE_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "Fn::Equals": lambda v: v[0] == v[1],
    "Fn::Not": lambda v: not v[0],
    "Fn::And": all,
    "Fn::Or": any,
    "Fn::Contains": lambda v: v[1] in v[0],
}


def _rule_value(node: Any, parameters: Mapping[str, Any]) -> Any:
    """A rule's condition or assertion under these parameter values (the functions rules
    use here: Ref, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::Contains)."""
    if ref_target(node):
        return parameters[ref_target(node)]
    if isinstance(node, dict) and len(node) == 1:
        ((name, args),) = node.items()
        if name not in _RULE_FUNCTIONS:
            raise ValueError(f"a rule function this check cannot evaluate: {name}")
        return _RULE_FUNCTIONS[name]([_rule_value(a, parameters) for a in _as_list(args)])
    return node


def rule_violations(template: Template, parameters: Mapping[str, str]) -> list[str]:
    """The rules' assertions that a deploy with these parameters fails (CloudFormation
    refuses it before changing anything), the rest at their defaults."""
    values: dict[str, Any] = dict(template.parameter_defaults()) | dict(parameters)
    for name, spec in template.parameters.items():
        if spec.get("Type") == "CommaDelimitedList" and isinstance(values.get(name), str):
            values[name] = [item.strip() for item in values[name].split(",")]
    failed = []
    for name, rule in (template.document.get("Rules") or {}).items():
        if "RuleCondition" in rule and not _rule_value(rule["RuleCondition"], values):
            continue
        failed += [
            f"{name}: {assertion.get('AssertDescription', '').strip()}"
            for assertion in rule["Assertions"]
            if not _rule_value(assertion["Assert"], values)
        ]
    return failed


# A distribution's domain name in the deploys that the CORS check resolves.
WEB_DOMAIN = "d111111abcdef8.cloudfront.net"
_NAMED_ORIGINS = "https://app.example.com,http://localhost:5173"
# (parameters, the origins every CORS configuration must allow in that deploy)
CORS_DEPLOYS: tuple[tuple[dict[str, str], list[str]], ...] = (
    ({}, ["*"]),
    ({"CorsAllowedOrigins": _NAMED_ORIGINS}, _NAMED_ORIGINS.split(",")),
    (
        {"CorsAllowedOrigins": _NAMED_ORIGINS, "HostWebClient": "true"},
        [*_NAMED_ORIGINS.split(","), f"https://{WEB_DOMAIN}"],
    ),
    # "*" allows the web client's origin already.
    ({"HostWebClient": "true"}, ["*"]),
)


def cors_origins(template: Template, parameters: Mapping[str, str]) -> dict[str, Any]:
    """What each CORS configuration (an HTTP API's, a bucket's rule) allows in a deploy with
    these parameters, resolved as CloudFormation would (conditions and all), with WEB_DOMAIN
    for every distribution's domain name."""
    resolver = Resolver(template, parameters)
    for name in of_type(template, "AWS::CloudFront::Distribution"):
        resolver.register(name, "E2QWRUHEXAMPLE", DomainName=WEB_DOMAIN)
    found: dict[str, Any] = {}
    for api in resolver.active(template.of_type("AWS::Serverless::HttpApi")):
        config = resolver.resolve(api.properties.get("CorsConfiguration")) or {}
        found[api.logical_id] = config.get("AllowOrigins")
    for bucket in resolver.active(template.of_type("AWS::S3::Bucket")):
        config = resolver.resolve(bucket.properties.get("CorsConfiguration")) or {}
        for index, rule in enumerate(config.get("CorsRules", [])):
            found[f"{bucket.logical_id} rule {index}"] = rule.get("AllowedOrigins")
    return found


def check_cors_origins(template: Template) -> list[str]:
    """The HTTP API and every bucket with CORS allow the CorsAllowedOrigins parameter's
    origins, and the hosted web client's beside them when HostWebClient is on (never when
    off, when there is no distribution)."""
    problems = []
    for parameters, expected in CORS_DEPLOYS:
        origins = cors_origins(template, parameters)
        if "HttpApi" not in origins:
            problems.append("the HTTP API has no CORS configuration")
        problems += [
            f"{name} allows {allowed} with {parameters or 'the defaults'}, not {expected}"
            for name, allowed in origins.items()
            if allowed != expected
        ]
    return problems


# ---------------------------------------------------------------- checks: the web client

WEB_CONDITION = "HostsWebClient"
_SIGNED_S3 = {
    "OriginAccessControlOriginType": "s3",
    "SigningBehavior": "always",
    "SigningProtocol": "sigv4",
}


def _origins(distribution: Resource) -> list[dict[str, Any]]:
    config = distribution.properties.get("DistributionConfig") or {}
    return list(config.get("Origins") or [])


def web_client_resources(template: Template) -> set[str]:
    """The web client's hosting: the CloudFront resources, the buckets their origins read,
    and those buckets' policies."""
    found = {
        name for name, r in template.resources.items() if r.type.startswith("AWS::CloudFront::")
    }
    buckets = set(of_type(template, "AWS::S3::Bucket"))
    for name in list(found):
        for origin in _origins(template.resources[name]):
            found |= references(origin.get("DomainName")) & buckets
    found |= {
        name
        for name, policy in of_type(template, "AWS::S3::BucketPolicy").items()
        if ref_target(policy.properties.get("Bucket")) in found
    }
    return found


def check_web_client_gated(template: Template) -> list[str]:
    """Every resource and output of the web client's hosting has the HostsWebClient
    condition, and the parameter's default leaves them all out."""
    web = web_client_resources(template)
    if not web:
        return ["no CloudFront distribution serves the web client"]
    problems = [
        f"{name}: its Condition is {template.resources[name].condition!r}, not {WEB_CONDITION}"
        for name in sorted(web)
        if template.resources[name].condition != WEB_CONDITION
    ]
    problems += [
        f"Outputs.{name} reads {sorted(references(output.get('Value')) & web)} without the"
        f" {WEB_CONDITION} condition"
        for name, output in template.outputs.items()
        if references(output.get("Value")) & web and output.get("Condition") != WEB_CONDITION
    ]
    deployed = {r.logical_id for r in Resolver(template).active(template.resources.values())}
    problems += [f"{name} is deployed by default" for name in sorted(web & deployed)]
    return problems


def _grants_only_the_distribution(template: Template, bucket: str, distribution: str) -> list[str]:
    """The bucket's policies allow nothing but s3:GetObject to CloudFront's service on
    behalf of this distribution (AWS:SourceArn), and do allow that."""
    problems, granted = [], False
    for name, policy in of_type(template, "AWS::S3::BucketPolicy").items():
        if ref_target(policy.properties.get("Bucket")) != bucket:
            continue
        for statement in _as_list((policy.properties.get("PolicyDocument") or {}).get("Statement")):
            if statement.get("Effect") != "Allow":
                continue
            source_arn = ((statement.get("Condition") or {}).get("StringEquals") or {}).get(
                "AWS:SourceArn"
            )
            if (
                statement.get("Principal") != {"Service": "cloudfront.amazonaws.com"}
                or _as_list(statement.get("Action")) != ["s3:GetObject"]
                or distribution not in references(source_arn)
            ):
                problems.append(
                    f"{name}: {statement.get('Sid', 'a statement')} allows more than"
                    f" {distribution}'s reads (CloudFront's service principal, s3:GetObject,"
                    " AWS:SourceArn)"
                )
            else:
                granted = True
    if not granted:
        problems.append(f"{bucket}: no bucket policy lets {distribution} read it")
    return problems


def check_web_origin_access(template: Template) -> list[str]:
    """The distribution reads its private bucket through origin access control (SigV4,
    always signed; no legacy origin access identity), the bucket lets only that
    distribution read, viewers are sent to HTTPS, and / is index.html."""
    problems = [
        f"{name}: an origin access identity (legacy); use an OriginAccessControl"
        for name in of_type(template, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
    ]
    controls = of_type(template, "AWS::CloudFront::OriginAccessControl")
    buckets = set(of_type(template, "AWS::S3::Bucket"))
    for name, distribution in of_type(template, "AWS::CloudFront::Distribution").items():
        config = distribution.properties.get("DistributionConfig") or {}
        if config.get("DefaultRootObject") != "index.html":
            problems.append(f"{name}: DefaultRootObject is not index.html")
        behaviors = [
            config.get("DefaultCacheBehavior") or {},
            *(config.get("CacheBehaviors") or []),
        ]
        problems += [
            f"{name}: a cache behavior lets viewers in over HTTP ({b.get('ViewerProtocolPolicy')})"
            for b in behaviors
            if b.get("ViewerProtocolPolicy") not in ("redirect-to-https", "https-only")
        ]
        for origin in _origins(distribution):
            origin_id = origin.get("Id")
            if (origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity"):
                problems.append(f"{name}: origin {origin_id} uses an origin access identity")
            control = controls.get(str(_target(origin.get("OriginAccessControlId"))))
            settings = (
                (control.properties.get("OriginAccessControlConfig") or {}) if control else {}
            )
            if control is None or any(settings.get(k) != v for k, v in _SIGNED_S3.items()):
                problems.append(
                    f"{name}: origin {origin_id} is not read through an OriginAccessControl"
                    " that always signs S3 requests with SigV4"
                )
            read = sorted(references(origin.get("DomainName")) & buckets)
            if not read:
                problems.append(f"{name}: origin {origin_id} is not a bucket of the stack")
            for bucket in read:
                problems += _grants_only_the_distribution(template, bucket, name)
    return problems


# ---------------------------------------------------------------- checks: docs/deploy.md


def _section(text: str, heading: str) -> str:
    """The body of the markdown section under `heading` (any level), up to the next heading."""
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#+ |\Z)", text, re.M | re.S)
    return match.group(1) if match else ""


def check_deploy_doc(template: Template, text: str) -> list[str]:
    """docs/deploy.md lists every parameter with its default (section "Parameters") and every
    output (section "Outputs")."""
    problems = []
    rows = {
        cells[0].strip("` "): cells[1]
        for line in _section(text, "Parameters").splitlines()
        if line.startswith("| `")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    for name, spec in template.parameters.items():
        if name not in rows:
            problems.append(f"docs/deploy.md's Parameters table lacks {name}")
            continue
        default = str(spec.get("Default", ""))
        documented = re.match(r"`([^`]*)`", rows[name])
        shown = documented.group(1) if documented else rows[name].split(" ")[0]
        if (shown if shown != "empty" else "") != default:
            problems.append(
                f"{name}: docs/deploy.md says the default is {shown!r}, not {default!r}"
            )
    problems += [
        f"docs/deploy.md lists a parameter the template lacks: {n}"
        for n in sorted(set(rows) - set(template.parameters))
    ]
    outputs = set(re.findall(r"`([A-Za-z0-9]+)`", _section(text, "Outputs")))
    problems += [f"docs/deploy.md's Outputs lack {n}" for n in template.outputs if n not in outputs]
    return problems
