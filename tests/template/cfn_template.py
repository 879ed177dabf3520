"""Read template.yaml and check what cfn-lint and `sam validate --lint` do not.

Every check is a function of the parsed template (and, where it needs files, the repository
root) returning a list of problems, one readable sentence each; an empty list means the
template passes. The tests run each check on the real template and on broken copies, so a
check that could never fail shows up as a failing test.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from local.template import load_yaml

Template = dict[str, Any]

ROOT = Path(__file__).resolve().parents[2]

PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)

# The attributes Fn::GetAtt may name, for the resource types this template uses. A GetAtt on
# a type missing here is reported, so the table grows with the template instead of silently
# letting a new type through. Source: each type's "Return values" in the CloudFormation
# reference (AWS::Serverless::Function resolves to the AWS::Lambda::Function it becomes).
GETATT_ATTRIBUTES: dict[str, frozenset[str]] = {
    "AWS::Serverless::Function": frozenset({"Arn"}),
    "AWS::Lambda::Function": frozenset({"Arn", "SnapStartResponse"}),
    "AWS::IAM::Role": frozenset({"Arn", "RoleId"}),
    "AWS::DynamoDB::Table": frozenset({"Arn", "StreamArn"}),
    "AWS::Cognito::UserPool": frozenset({"Arn", "ProviderName", "ProviderURL", "UserPoolId"}),
    "AWS::Cognito::UserPoolClient": frozenset({"ClientId", "ClientSecret", "Name"}),
    "AWS::ApiGatewayV2::Api": frozenset({"ApiEndpoint", "ApiId"}),
    "AWS::ApiGatewayV2::Authorizer": frozenset({"AuthorizerId"}),
    "AWS::ApiGatewayV2::Integration": frozenset({"IntegrationId"}),
    "AWS::ApiGatewayV2::Route": frozenset({"RouteId"}),
    "AWS::Logs::LogGroup": frozenset({"Arn"}),
    "AWS::SQS::Queue": frozenset({"Arn", "QueueName", "QueueUrl"}),
    "AWS::SNS::Topic": frozenset({"TopicArn", "TopicName"}),
    "AWS::S3::Bucket": frozenset(
        {"Arn", "DomainName", "DualStackDomainName", "RegionalDomainName", "WebsiteURL"}
    ),
    "AWS::OpenSearchService::Domain": frozenset({"Arn", "DomainArn", "DomainEndpoint", "Id"}),
}

REQUIRED_OUTPUTS = ("HttpApiUrl", "WebSocketUrl", "UserPoolId", "UserPoolClientId")
MIN_PYTHON = (3, 12)
DATA_SERVICES = ("dynamodb", "s3", "sqs")
FUNCTION = "AWS::Serverless::Function"

# ${Name} or ${Resource.Attribute} in Fn::Sub; ${!Literal} is an escape, not a reference.
_SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")


# ---------------------------------------------------------------- loading


def load_template_text(text: str) -> Template:
    """The raw template (intrinsics unresolved), read by the local runtime's own loader."""
    loaded = load_yaml(text)
    assert isinstance(loaded, dict), "a template is a mapping"
    return loaded


def load_template(path: Path) -> Template:
    return load_template_text(path.read_text())


# ---------------------------------------------------------------- reading


def resources(template: Template) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template.get("Resources") or {}
    return found


def resources_of_type(template: Template, type_name: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources(template).items() if r.get("Type") == type_name}


def functions(template: Template) -> dict[str, dict[str, Any]]:
    return resources_of_type(template, FUNCTION)


def function_property(template: Template, name: str, key: str) -> Any:
    """A function's property, falling back to Globals.Function as SAM does."""
    own = resources(template)[name].get("Properties") or {}
    if key in own:
        return own[key]
    return ((template.get("Globals") or {}).get("Function") or {}).get(key)


def function_dir(template: Template, name: str) -> str:
    code_uri = function_property(template, name, "CodeUri")
    assert isinstance(code_uri, str), f"{name}: CodeUri must be a local path"
    return Path(code_uri).name


def handler_location(template: Template, name: str) -> tuple[str, str]:
    """`app.lambda_handler` -> ("app.py", "lambda_handler"); `pkg.mod.fn` -> ("pkg/mod.py", ...)."""
    handler = function_property(template, name, "Handler")
    assert isinstance(handler, str), f"{name}: Handler must be a string"
    module, _, attribute = handler.rpartition(".")
    return module.replace(".", "/") + ".py", attribute


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


def _intrinsic(node: Any, name: str) -> Any:
    if isinstance(node, dict) and len(node) == 1 and name in node:
        return node[name]
    return None


def sub_parts(value: Any) -> tuple[str, dict[str, Any]]:
    """Fn::Sub's string and its local variables (the list form's second item)."""
    if isinstance(value, list):
        text, variables = value[0], (value[1] if len(value) > 1 else {})
        return str(text), dict(variables)
    return str(value), {}


def sub_variables(value: Any) -> list[str]:
    text, _ = sub_parts(value)
    return [match.strip() for match in _SUB_VARIABLE.findall(text)]


def ref_target(node: Any) -> str | None:
    target = _intrinsic(node, "Ref")
    return target if isinstance(target, str) else None


def getatt_resources_in(node: Any) -> set[str]:
    """Resources that a value reaches with GetAtt, long or short form or inside a Sub."""
    found: set[str] = set()
    for _, value in _walk(node):
        getatt = _intrinsic(value, "Fn::GetAtt")
        if isinstance(getatt, list) and getatt:
            found.add(str(getatt[0]))
        sub = _intrinsic(value, "Fn::Sub")
        if sub is not None:
            found.update(v.split(".", 1)[0] for v in sub_variables(sub) if "." in v)
    return found


def names_in(node: Any) -> set[str]:
    """Every logical name a value mentions with Ref, GetAtt or a Sub variable."""
    found = getatt_resources_in(node)
    for _, value in _walk(node):
        target = ref_target(value)
        if target:
            found.add(target)
        sub = _intrinsic(value, "Fn::Sub")
        if sub is not None:
            found.update(v for v in sub_variables(sub) if "." not in v)
    return found


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------- checks: references


def _implicit_resources(template: Template) -> dict[str, str]:
    """Resources SAM generates that a template may name: a function's role, if it has none."""
    implicit = {}
    for name in functions(template):
        if function_property(template, name, "Role") is None:
            implicit[f"{name}Role"] = "AWS::IAM::Role"
    return implicit


def _resource_types(template: Template) -> dict[str, str]:
    types = {name: str(r.get("Type")) for name, r in resources(template).items()}
    return _implicit_resources(template) | types


def check_getatts(template: Template) -> list[str]:
    """Every GetAtt (and ${Res.Attr} in a Sub) names a resource and an attribute it has."""
    types = _resource_types(template)
    problems = []
    for path, node in _walk(template):
        targets: list[tuple[str, str]] = []
        getatt = _intrinsic(node, "Fn::GetAtt")
        if getatt is not None:
            if not (isinstance(getatt, list) and len(getatt) == 2):
                problems.append(f"{path}: GetAtt needs a resource and an attribute: {getatt!r}")
                continue
            targets.append((str(getatt[0]), str(getatt[1])))
        sub = _intrinsic(node, "Fn::Sub")
        if sub is not None:
            _, local = sub_parts(sub)
            for variable in sub_variables(sub):
                if "." in variable and variable not in local:
                    resource, attribute = variable.split(".", 1)
                    targets.append((resource, attribute))
        for resource, attribute in targets:
            if resource not in types:
                problems.append(f"{path}: GetAtt names {resource!r}, which is no resource")
                continue
            known = GETATT_ATTRIBUTES.get(types[resource])
            if known is None:
                problems.append(
                    f"{path}: GetAtt on {resource} of type {types[resource]}, which the "
                    "attribute table in tests/template/cfn_template.py does not know yet"
                )
            elif attribute not in known:
                problems.append(
                    f"{path}: {resource} ({types[resource]}) has no attribute {attribute!r}; "
                    f"it has {sorted(known)}"
                )
            elif attribute == "StreamArn" and not (
                (resources(template)[resource].get("Properties") or {}).get("StreamSpecification")
            ):
                problems.append(f"{path}: {resource}.StreamArn, but the table has no stream")
    return problems


def check_refs(template: Template) -> list[str]:
    """Every Ref and ${Name} in a Sub names a parameter, a resource or a pseudo parameter."""
    known = (
        set(template.get("Parameters") or {}) | set(_resource_types(template)) | PSEUDO_PARAMETERS
    )
    problems = []
    for path, node in _walk(template):
        target = _intrinsic(node, "Ref")
        if target is not None and target not in known:
            problems.append(f"{path}: Ref {target!r} names nothing in the template")
        sub = _intrinsic(node, "Fn::Sub")
        if sub is not None:
            _, local = sub_parts(sub)
            for variable in sub_variables(sub):
                if "." not in variable and variable not in known and variable not in local:
                    problems.append(f"{path}: Sub ${{{variable}}} names nothing in the template")
    return problems


# ---------------------------------------------------------------- checks: functions


def _python_version(runtime: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"python(\d+)\.(\d+)", runtime)
    return (int(match[1]), int(match[2])) if match else None


def check_function_runtime(template: Template) -> list[str]:
    """Every function runs Python 3.12 or later on arm64 (its own setting or Globals)."""
    problems = []
    for name in functions(template):
        runtime = str(function_property(template, name, "Runtime"))
        version = _python_version(runtime)
        if version is None or version < MIN_PYTHON:
            problems.append(f"{name}: Runtime {runtime!r}, want python3.12 or later")
        architectures = function_property(template, name, "Architectures")
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
    code_uri = function_property(template, name, "CodeUri")
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
    for name, resource in resources(template).items():
        if resource.get("Type") == "AWS::IAM::ManagedPolicy":
            document = (resource.get("Properties") or {}).get("PolicyDocument") or {}
            for number, statement in enumerate(_as_list(document.get("Statement"))):
                yield f"{name} statement {number}", statement
    for name in functions(template):
        policies = (resources(template)[name].get("Properties") or {}).get("Policies")
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
    for policy in resources_of_type(template, "AWS::S3::BucketPolicy").values():
        properties = policy.get("Properties") or {}
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
    for name, bucket in resources_of_type(template, "AWS::S3::Bucket").items():
        properties = bucket.get("Properties") or {}
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
        for name, r in resources_of_type(template, "AWS::ApiGatewayV2::Api").items()
        if (r.get("Properties") or {}).get("ProtocolType") == "WEBSOCKET"
    }


def _invoked_function(template: Template, uri: Any) -> str | None:
    """The function an integration or authorizer URI points at (via ${Function.Arn})."""
    candidates = getatt_resources_in(uri) & set(functions(template))
    return next(iter(candidates)) if len(candidates) == 1 else None


def _permissions_for(template: Template, function: str) -> list[dict[str, Any]]:
    found = []
    for permission in resources_of_type(template, "AWS::Lambda::Permission").values():
        properties = permission.get("Properties") or {}
        if function in names_in(properties.get("FunctionName")) and (
            properties.get("Principal") == "apigateway.amazonaws.com"
            and properties.get("Action") == "lambda:InvokeFunction"
        ):
            found.append(properties)
    return found


def _source_arn(permission: dict[str, Any]) -> str:
    arn = _intrinsic(permission.get("SourceArn"), "Fn::Sub")
    return sub_parts(arn)[0] if arn is not None else str(permission.get("SourceArn"))


def check_websocket_routes(template: Template) -> list[str]:
    """Each WebSocket route has an integration to a function that API Gateway may invoke,
    a route response where it selects one, and is in its stage's DependsOn."""
    apis = _websocket_apis(template)
    all_resources = resources(template)
    stages = resources_of_type(template, "AWS::ApiGatewayV2::Stage")
    responses = resources_of_type(template, "AWS::ApiGatewayV2::RouteResponse")
    problems = []
    for name, route in resources_of_type(template, "AWS::ApiGatewayV2::Route").items():
        properties = route.get("Properties") or {}
        api = ref_target(properties.get("ApiId"))
        if api not in apis:
            continue
        key = properties.get("RouteKey")
        target = _intrinsic(properties.get("Target"), "Fn::Sub")
        integrations = [v for v in sub_variables(target) if "." not in v] if target else []
        integration = all_resources.get(integrations[0]) if len(integrations) == 1 else None
        if integration is None or integration.get("Type") != "AWS::ApiGatewayV2::Integration":
            problems.append(f"{name} ({key}): Target is not integrations/${{<Integration>}}")
        else:
            integration_properties = integration.get("Properties") or {}
            if ref_target(integration_properties.get("ApiId")) != api:
                problems.append(f"{name} ({key}): its integration belongs to another API")
            function = _invoked_function(template, integration_properties.get("IntegrationUri"))
            if function is None:
                problems.append(f"{name} ({key}): its integration invokes no template function")
            elif not any(
                api in names_in(p.get("SourceArn"))
                and (_source_arn(p).endswith(f"/{key}") or _source_arn(p).endswith("/*"))
                for p in _permissions_for(template, function)
            ):
                problems.append(
                    f"{name} ({key}): no AWS::Lambda::Permission lets API Gateway invoke "
                    f"{function} for this route"
                )
        if "RouteResponseSelectionExpression" in properties and not any(
            ref_target((r.get("Properties") or {}).get("RouteId")) == name
            for r in responses.values()
        ):
            problems.append(f"{name} ({key}): selects a route response but has none")
        api_stages = {
            s: r
            for s, r in stages.items()
            if ref_target((r.get("Properties") or {}).get("ApiId")) == api
        }
        if not api_stages:
            problems.append(f"{name} ({key}): {api} has no stage")
        for stage_name, stage in api_stages.items():
            if name not in _as_list(stage.get("DependsOn")):
                problems.append(f"{name} ({key}): missing from {stage_name}'s DependsOn")
    return problems


def check_websocket_authorizers(template: Template) -> list[str]:
    """Each WebSocket Lambda authorizer's function may be invoked by API Gateway for it."""
    apis = _websocket_apis(template)
    problems = []
    for name, authorizer in resources_of_type(template, "AWS::ApiGatewayV2::Authorizer").items():
        properties = authorizer.get("Properties") or {}
        if ref_target(properties.get("ApiId")) not in apis:
            continue
        function = _invoked_function(template, properties.get("AuthorizerUri"))
        if function is None:
            problems.append(f"{name}: AuthorizerUri invokes no template function")
        elif not any(
            name in names_in(p.get("SourceArn")) for p in _permissions_for(template, function)
        ):
            problems.append(f"{name}: no AWS::Lambda::Permission lets it invoke {function}")
    return problems


# ---------------------------------------------------------------- checks: outputs


def check_outputs(template: Template) -> list[str]:
    """The Outputs that clients and docs/deploy.md rely on exist (API.md, Finding the stack)."""
    outputs = template.get("Outputs") or {}
    return [f"Outputs lack {name}" for name in REQUIRED_OUTPUTS if name not in outputs]


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
    events = (resources(template)[name].get("Properties") or {}).get("Events") or {}
    for event in events.values():
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
    events = (resources(template)[name].get("Properties") or {}).get("Events") or {}
    return {
        f"{str(props.get('Method')).upper()} {props.get('Path')}"
        for event in events.values()
        if event.get("Type") == "HttpApi"
        and ((props := event.get("Properties") or {}).get("Auth") or {}).get("Authorizer") == "NONE"
    }


def websocket_route_keys(template: Template, name: str) -> set[str]:
    """The WebSocket route keys whose integration invokes the function."""
    keys = set()
    integrations = resources_of_type(template, "AWS::ApiGatewayV2::Integration")
    for route in resources_of_type(template, "AWS::ApiGatewayV2::Route").values():
        properties = route.get("Properties") or {}
        target = _intrinsic(properties.get("Target"), "Fn::Sub")
        for variable in sub_variables(target) if target else []:
            uri = ((integrations.get(variable) or {}).get("Properties") or {}).get("IntegrationUri")
            if uri is not None and _invoked_function(template, uri) == name:
                keys.add(str(properties.get("RouteKey")))
    return keys


def authorizer_query_parameters(template: Template, name: str) -> set[str] | None:
    """The query string identity sources of the WebSocket authorizer the function serves,
    or None when it serves none."""
    for authorizer in resources_of_type(template, "AWS::ApiGatewayV2::Authorizer").values():
        properties = authorizer.get("Properties") or {}
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
    events = (resources(template)[name].get("Properties") or {}).get("Events") or {}
    return {
        _RECORD_SOURCES[event["Type"]]
        for event in events.values()
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
    events = (resources(template)[name].get("Properties") or {}).get("Events") or {}
    return any(event.get("Type") in ("Schedule", "ScheduleV2") for event in events.values())


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
    problems = []
    for path in sample_events(root, function_dir(template, name)):
        event = json.loads(path.read_text())
        if routes:
            found = _http_event_problems(event, routes, routes_without_authorizer(template, name))
        elif keys:
            found = _websocket_event_problems(event, keys)
        elif parameters is not None:
            found = _authorizer_event_problems(event, parameters)
        elif sources:
            found = _record_event_problems(event, sources)
        elif scheduled:
            found = _scheduled_event_problems(event)
        else:
            found = ["the template gives the function no route, authorizer, records or schedule"]
        problems.extend(f"{path.name}: {problem}" for problem in found)
    return problems
