"""The application as the local runtime plays it, read from the template: functions, the HTTP
API's routes and JWT authorizers, the WebSocket API's routes and authorizer, and the event
sources (DynamoDB streams, SQS queues) wired to functions.

Everything here is resolved (plain strings and numbers) except function environments,
which the stack resolves once every resource has its local physical name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.intrinsics import ACCOUNT_ID, REGION, Resolver, references
from local.template import Resource, Template, TemplateError

log = logging.getLogger(__name__)

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"
HTTP_API = "AWS::Serverless::HttpApi"
API_V2 = "AWS::ApiGatewayV2::Api"
OPENSEARCH_DOMAIN = "AWS::OpenSearchService::Domain"
IMPLICIT_HTTP_API = "ServerlessHttpApi"  # SAM's name for the API of events without ApiId


def local_id(logical_id: str) -> str:
    """A stable physical id for what the runtime plays, shaped like API Gateway's ids (10
    lowercase alphanumerics)."""
    return hashlib.sha256(logical_id.encode()).hexdigest()[:10]


def execute_api_url(api_id: str, scheme: str = "https") -> str:
    """The AWS URL of an API; the stack rewrites it to the local gateway's."""
    return f"{scheme}://{api_id}.execute-api.{REGION}.amazonaws.com"


# ---------------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    code_dir: Path
    handler: str
    runtime: str
    timeout_s: float
    memory_mb: int
    layer_dirs: tuple[Path, ...]
    environment: Mapping[str, Any]  # unresolved template values
    # ReservedConcurrentExecutions: at most this many invocations at once, all guaranteed;
    # None when the template reserves none (the function shares the account's concurrency).
    reserved_concurrency: int | None = None

    @property
    def arn(self) -> str:
        return function_arn(self.name)


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


def register_runtime_resources(
    template: Template, resolver: Resolver, service_types: Collection[str]
) -> None:
    """Gives a physical id to what the runtime itself plays (functions, layers, APIs, and the
    IAM/logging/API Gateway plumbing it skips), so that `Ref`s to them resolve. Resources of
    `service_types` are left to local.aws, which creates them."""
    for resource in resolver.active(template.resources.values()):
        logical_id = resource.logical_id
        if resource.type == FUNCTION:
            name = _function_name(resource, resolver)
            resolver.register(logical_id, name, Arn=function_arn(name))
        elif resource.type == LAYER:
            resolver.register(
                logical_id,
                f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:{resolver.stack_name}-{logical_id}:1",
            )
        elif resource.type in (HTTP_API, API_V2):
            api_id = local_id(logical_id)
            scheme = "wss" if resource.properties.get("ProtocolType") == "WEBSOCKET" else "https"
            resolver.register(
                logical_id, api_id, ApiId=api_id, ApiEndpoint=execute_api_url(api_id, scheme)
            )
        elif resource.type == OPENSEARCH_DOMAIN:
            # No endpoint of its own: a LocalService (local.search_node) supplies
            # OPENSEARCH_ENDPOINT to every function when the machine can run OpenSearch.
            name = str(resolver.resolve(resource.properties.get("DomainName", logical_id)))
            arn = f"arn:aws:es:{REGION}:{ACCOUNT_ID}:domain/{name}"
            resolver.register(logical_id, name, Arn=arn, DomainArn=arn, DomainEndpoint="")
        elif resource.type == "AWS::IAM::Role":
            # Its ARN is passed to services (Scheduler's targets); moto checks no role.
            name = f"{resolver.stack_name}-{logical_id}"
            resolver.register(
                logical_id, name, Arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{name}", RoleId=name
            )
        elif resource.type not in service_types:
            resolver.register(logical_id, local_id(logical_id))
    if any(_http_events(template, resolver, api_id=None)):
        api_id = local_id(IMPLICIT_HTTP_API)
        resolver.register(IMPLICIT_HTTP_API, api_id, ApiEndpoint=execute_api_url(api_id))


def _function_name(resource: Resource, resolver: Resolver) -> str:
    name = resource.properties.get("FunctionName")
    return str(resolver.resolve(name)) if name else f"{resolver.stack_name}-{resource.logical_id}"


def functions(template: Template, resolver: Resolver) -> dict[str, FunctionSpec]:
    specs = {}
    for resource in resolver.active(template.of_type(FUNCTION)):
        props = resource.properties
        code_uri = resolver.resolve(props.get("CodeUri"))
        handler = resolver.resolve(props.get("Handler"))
        runtime = str(resolver.resolve(props.get("Runtime", "")))
        if not isinstance(code_uri, str) or not isinstance(handler, str):
            raise TemplateError(f"{resource.logical_id}: CodeUri and Handler must be strings")
        if not runtime.startswith("python"):
            raise TemplateError(f"{resource.logical_id}: runtime {runtime!r} is not Python")
        environment = (props.get("Environment") or {}).get("Variables") or {}
        specs[resource.logical_id] = FunctionSpec(
            logical_id=resource.logical_id,
            name=_function_name(resource, resolver),
            code_dir=(template.root / code_uri).resolve(),
            handler=handler,
            runtime=runtime,
            timeout_s=float(resolver.resolve(props.get("Timeout", 3))),
            memory_mb=int(resolver.resolve(props.get("MemorySize", 128))),
            layer_dirs=tuple(_layer_dirs(template, resource, resolver)),
            environment=environment,
            reserved_concurrency=_reserved_concurrency(resource, resolver),
        )
    return specs


def _reserved_concurrency(function: Resource, resolver: Resolver) -> int | None:
    value = resolver.resolve(function.properties.get("ReservedConcurrentExecutions"))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise TemplateError(
            f"{function.logical_id}: ReservedConcurrentExecutions must be a whole number, "
            f"not {value!r}"
        )
    return int(value)


def _layer_dirs(template: Template, function: Resource, resolver: Resolver) -> list[Path]:
    dirs = []
    for layer in function.properties.get("Layers") or []:
        names = references(layer) & set(template.resources)
        layers = [template.resources[name] for name in names]
        if len(layers) != 1 or layers[0].type != LAYER:
            # A published layer (an ARN): its packages must come from the environment.
            log.warning("%s: layer %s is not in this template; skipped", function.logical_id, layer)
            continue
        content_uri = resolver.resolve(layers[0].properties.get("ContentUri"))
        if not isinstance(content_uri, str):
            raise TemplateError(f"{layers[0].logical_id}: ContentUri must be a local directory")
        dirs.append((template.root / content_uri).resolve())
    return dirs


# ----------------------------------------------------------------------------------- HTTP API


@dataclass(frozen=True)
class JwtAuthorizer:
    name: str
    issuer: str
    audiences: tuple[str, ...]
    header: str  # the request header carrying the token


@dataclass(frozen=True)
class Cors:
    allow_origins: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class HttpRoute:
    method: str  # upper case, or ANY
    path: str | None  # None for the $default route
    function: str
    authorizer: JwtAuthorizer | None
    scopes: tuple[str, ...] = ()
    timeout_s: float = 30.0

    @property
    def key(self) -> str:
        return "$default" if self.path is None else f"{self.method} {self.path}"


@dataclass(frozen=True)
class HttpApi:
    logical_id: str
    api_id: str
    routes: tuple[HttpRoute, ...]
    cors: Cors | None


def _http_events(
    template: Template, resolver: Resolver, api_id: str | None
) -> list[tuple[str, Mapping[str, Any]]]:
    """(function, event properties) of the HttpApi events for one API (None: the implicit one)."""
    found = []
    for function in resolver.active(template.of_type(FUNCTION)):
        for event in (function.properties.get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties") or {}
            target = props.get("ApiId")
            target_id = next(iter(references(target)), None) if target else None
            if target_id == api_id:
                found.append((function.logical_id, props))
    return found


def http_api(template: Template, resolver: Resolver) -> HttpApi | None:
    apis = [r.logical_id for r in resolver.active(template.of_type(HTTP_API))]
    if _http_events(template, resolver, api_id=None):
        apis.append(IMPLICIT_HTTP_API)
    if not apis:
        return None
    if len(apis) > 1:
        raise TemplateError(f"the local runtime serves one HTTP API; the template has {apis}")
    logical_id = apis[0]
    resource = template.resources.get(logical_id)
    props = dict(resource.properties) if resource else dict(template.globals.get("HttpApi") or {})
    auth = props.get("Auth") or {}
    authorizers = {
        name: _jwt_authorizer(name, config, resolver)
        for name, config in (auth.get("Authorizers") or {}).items()
    }
    default_authorizer = auth.get("DefaultAuthorizer")
    routes = []
    event_api_id = None if logical_id == IMPLICIT_HTTP_API else logical_id
    for function, event in _http_events(template, resolver, event_api_id):
        event_auth = event.get("Auth") or {}
        authorizer_name = event_auth.get("Authorizer", default_authorizer)
        if authorizer_name not in (None, "NONE") and authorizer_name not in authorizers:
            raise TemplateError(f"{function}: no HttpApi authorizer named {authorizer_name}")
        if str(event.get("PayloadFormatVersion", "2.0")) != "2.0":
            raise TemplateError(f"{function}: the local runtime speaks payload format 2.0 only")
        path = event.get("Path")
        method = str(event.get("Method", "ANY")).upper() if path is not None else "ANY"
        routes.append(
            HttpRoute(
                method="ANY" if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" else method,
                path=None if path in (None, "$default") else str(path),
                function=function,
                authorizer=authorizers.get(authorizer_name) if authorizer_name else None,
                scopes=tuple(event_auth.get("AuthorizationScopes") or ()),
                timeout_s=int(event.get("TimeoutInMillis", 30000)) / 1000,
            )
        )
    return HttpApi(logical_id, str(resolver.ref(logical_id)), tuple(routes), _cors(props, resolver))


def _jwt_authorizer(name: str, config: Mapping[str, Any], resolver: Resolver) -> JwtAuthorizer:
    jwt = config.get("JwtConfiguration")
    if not jwt:
        raise TemplateError(f"HttpApi authorizer {name}: only JWT authorizers run locally")
    source = str(config.get("IdentitySource", "$request.header.Authorization"))
    prefix = "$request.header."
    if not source.startswith(prefix):
        raise TemplateError(f"HttpApi authorizer {name}: identity source must be a header")
    audience = resolver.resolve(jwt.get("audience") or [])
    return JwtAuthorizer(
        name=name,
        issuer=str(resolver.resolve(jwt.get("issuer"))),
        audiences=tuple(str(a) for a in (audience if isinstance(audience, list) else [audience])),
        header=source.removeprefix(prefix),
    )


def _cors(props: Mapping[str, Any], resolver: Resolver) -> Cors | None:
    config = resolver.resolve(props.get("CorsConfiguration"))
    if not config:
        return None
    if config is True:
        return Cors(allow_origins=("*",), allow_headers=("*",), allow_methods=("*",))

    def strings(key: str) -> tuple[str, ...]:
        return tuple(str(item) for item in config.get(key) or ())

    max_age = config.get("MaxAge")
    return Cors(
        allow_origins=strings("AllowOrigins"),
        allow_headers=tuple(h.lower() for h in strings("AllowHeaders")),
        allow_methods=tuple(m.upper() for m in strings("AllowMethods")),
        expose_headers=strings("ExposeHeaders"),
        max_age=int(max_age) if max_age is not None else None,
        allow_credentials=bool(config.get("AllowCredentials", False)),
    )


# ------------------------------------------------------------------------------ WebSocket API


@dataclass(frozen=True)
class WsAuthorizer:
    function: str
    identity_sources: tuple[str, ...]  # e.g. route.request.querystring.token


@dataclass(frozen=True)
class WsRoute:
    key: str
    function: str
    returns_response: bool
    authorizer: WsAuthorizer | None = None


@dataclass(frozen=True)
class WebSocketApi:
    logical_id: str
    api_id: str
    stage: str
    body_selection_path: tuple[str, ...]  # `$request.body.action` -> ("action",)
    routes: Mapping[str, WsRoute] = field(default_factory=dict)


def websocket_api(template: Template, resolver: Resolver) -> WebSocketApi | None:
    active = resolver.active(template.resources.values())
    apis = [
        r for r in active if r.type == API_V2 and r.properties.get("ProtocolType") == "WEBSOCKET"
    ]
    if not apis:
        return None
    if len(apis) > 1:
        raise TemplateError("the local runtime serves one WebSocket API")
    api = apis[0]

    def belongs(resource: Resource, resource_type: str) -> bool:
        return resource.type == resource_type and api.logical_id in references(
            resource.properties.get("ApiId")
        )

    stages = [r for r in active if belongs(r, "AWS::ApiGatewayV2::Stage")]
    if not stages:
        raise TemplateError(f"WebSocket API {api.logical_id} has no Stage")
    answered = {
        route_id
        for r in active
        if belongs(r, "AWS::ApiGatewayV2::RouteResponse")
        for route_id in references(r.properties.get("RouteId"))
    }
    routes = {}
    for route in (r for r in active if belongs(r, "AWS::ApiGatewayV2::Route")):
        props = route.properties
        key = str(props.get("RouteKey"))
        integration = _single_reference(template, props.get("Target"), route.logical_id)
        integration_props = template.resources[integration].properties
        if integration_props.get("IntegrationType") != "AWS_PROXY":
            raise TemplateError(f"{integration}: only AWS_PROXY integrations run locally")
        authorizer = None
        if props.get("AuthorizationType") == "CUSTOM":
            authorizer_id = _single_reference(template, props.get("AuthorizerId"), route.logical_id)
            authorizer_props = template.resources[authorizer_id].properties
            authorizer = WsAuthorizer(
                function=_function_in(
                    template, authorizer_props.get("AuthorizerUri"), authorizer_id
                ),
                identity_sources=tuple(authorizer_props.get("IdentitySource") or ()),
            )
        routes[key] = WsRoute(
            key=key,
            function=_function_in(template, integration_props.get("IntegrationUri"), integration),
            returns_response=(
                route.logical_id in answered and bool(props.get("RouteResponseSelectionExpression"))
            ),
            authorizer=authorizer,
        )
    expression = str(api.properties.get("RouteSelectionExpression", ""))
    if not expression.startswith("$request.body."):
        raise TemplateError(f"route selection {expression!r}: only $request.body.* runs locally")
    return WebSocketApi(
        logical_id=api.logical_id,
        api_id=str(resolver.ref(api.logical_id)),
        stage=str(resolver.resolve(stages[0].properties.get("StageName"))),
        body_selection_path=tuple(expression.removeprefix("$request.body.").split(".")),
        routes=routes,
    )


def _single_reference(template: Template, value: Any, owner: str) -> str:
    names = references(value) & set(template.resources)
    if len(names) != 1:
        raise TemplateError(f"{owner}: expected one resource in {value!r}")
    return names.pop()


def _function_in(template: Template, uri: Any, owner: str) -> str:
    """The function an integration or authorizer URI invokes."""
    names = [
        n for n in references(uri) if template.resources.get(n, _NOT_A_FUNCTION).type == FUNCTION
    ]
    if len(names) != 1:
        raise TemplateError(f"{owner}: expected one function in {uri!r}")
    return names[0]


_NOT_A_FUNCTION = Resource("", "", {})


# ------------------------------------------------------------------------------ event sources


@dataclass(frozen=True)
class StreamSource:
    """A DynamoDB stream event source mapping (function Events of Type DynamoDB)."""

    function: str
    stream_arn: str
    starting_position: str
    batch_size: int
    batching_window_s: float
    filters: tuple[Mapping[str, Any], ...]
    report_item_failures: bool
    max_retries: int  # -1: until the record expires
    bisect_on_error: bool
    on_failure_arn: str | None


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source mapping (function Events of Type SQS)."""

    function: str
    queue_arn: str
    batch_size: int
    batching_window_s: float
    filters: tuple[Mapping[str, Any], ...]
    report_item_failures: bool
    max_concurrency: int


@dataclass(frozen=True)
class ScheduleSource:
    """An EventBridge schedule (function Events of Type Schedule or ScheduleV2) with a
    `rate(...)` expression; the function is invoked asynchronously, so a failed invocation
    is retried per the function's EventInvokeConfig and then sent to its OnFailure."""

    function: str
    rule_name: str
    interval_s: float
    input: Any  # the event the target gets; None: EventBridge's "Scheduled Event"
    max_retries: int
    on_failure_arn: str | None


_RUN_LOCALLY = ("HttpApi", "DynamoDB", "SQS", "Schedule", "ScheduleV2")
_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}

EventSource = StreamSource | QueueSource | ScheduleSource


def rate_seconds(expression: str) -> float | None:
    """The period of a `rate(N unit)` expression; None for anything else (cron, at)."""
    match = _RATE.fullmatch(expression.strip())
    if not match or int(match[1]) < 1:
        return None
    return int(match[1]) * _UNIT_S[match[2].removesuffix("s")]


def event_sources(template: Template, resolver: Resolver) -> list[EventSource]:
    sources: list[EventSource] = []
    for function in resolver.active(template.of_type(FUNCTION)):
        for name, event in (function.properties.get("Events") or {}).items():
            kind = event.get("Type")
            if kind not in _RUN_LOCALLY:
                log.warning("%s.%s: %s events do not run locally", function.logical_id, name, kind)
                continue
            props = resolver.resolve(event.get("Properties") or {})
            if kind == "HttpApi" or not _enabled(props):
                continue
            if kind in ("Schedule", "ScheduleV2"):
                schedule = _schedule_source(function, name, kind, props, resolver)
                if schedule is not None:
                    sources.append(schedule)
                continue
            common: dict[str, Any] = {
                "function": function.logical_id,
                "batching_window_s": float(props.get("MaximumBatchingWindowInSeconds", 0)),
                "filters": _filter_patterns(props.get("FilterCriteria")),
                "report_item_failures": (
                    "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or ())
                ),
            }
            if kind == "DynamoDB":
                sources.append(_stream_source(props, common))
            else:
                _check_visibility_timeout(template, resolver, function, event)
                sources.append(_queue_source(props, common))
    return sources


def queue_concurrency(sources: Sequence[EventSource]) -> dict[str, int]:
    """Per function (logical id), the sum of its SQS sources' MaximumConcurrency: how many
    of its batches Lambda runs at once."""
    totals: dict[str, int] = {}
    for source in sources:
        if isinstance(source, QueueSource):
            totals[source.function] = totals.get(source.function, 0) + source.max_concurrency
    return totals


def _enabled(props: Mapping[str, Any]) -> bool:
    return bool(props.get("Enabled", True)) and props.get("State", "ENABLED") == "ENABLED"


def _schedule_source(
    function: Resource, name: str, kind: str, props: Mapping[str, Any], resolver: Resolver
) -> ScheduleSource | None:
    expression = str(props.get("Schedule" if kind == "Schedule" else "ScheduleExpression", ""))
    interval = rate_seconds(expression)
    if interval is None:
        log.warning(
            "%s.%s: only rate(...) schedules run locally, not %r",
            function.logical_id,
            name,
            expression,
        )
        return None
    retries = async_invocation(function, resolver)
    raw_input = props.get("Input")
    return ScheduleSource(
        function=function.logical_id,
        rule_name=str(props.get("Name") or f"{function.logical_id}{name}"),
        interval_s=interval,
        input=json.loads(raw_input) if isinstance(raw_input, str) else raw_input,
        max_retries=retries.max_retries,
        on_failure_arn=retries.on_failure_arn,
    )


@dataclass(frozen=True)
class AsyncInvocation:
    """How Lambda retries the function's asynchronous invocations (EventInvokeConfig)."""

    max_retries: int = 2
    on_failure_arn: str | None = None


def async_invocation(function: Resource, resolver: Resolver) -> AsyncInvocation:
    invoke_config = resolver.resolve(function.properties.get("EventInvokeConfig") or {})
    on_failure = (invoke_config.get("DestinationConfig") or {}).get("OnFailure") or {}
    return AsyncInvocation(
        max_retries=int(invoke_config.get("MaximumRetryAttempts", 2)),
        on_failure_arn=on_failure.get("Destination"),
    )


def async_invocations(template: Template, resolver: Resolver) -> dict[str, AsyncInvocation]:
    """Every function's, by logical id: what an EventBridge Scheduler target gets."""
    return {
        function.logical_id: async_invocation(function, resolver)
        for function in resolver.active(template.of_type(FUNCTION))
    }


def _stream_source(props: Mapping[str, Any], common: dict[str, Any]) -> StreamSource:
    on_failure = (props.get("DestinationConfig") or {}).get("OnFailure") or {}
    return StreamSource(
        stream_arn=str(props["Stream"]),
        starting_position=str(props.get("StartingPosition", "LATEST")),
        batch_size=int(props.get("BatchSize", 100)),
        max_retries=int(props.get("MaximumRetryAttempts", -1)),
        bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
        on_failure_arn=on_failure.get("Destination"),
        **common,
    )


def _queue_source(props: Mapping[str, Any], common: dict[str, Any]) -> QueueSource:
    scaling = props.get("ScalingConfig") or {}
    return QueueSource(
        queue_arn=str(props["Queue"]),
        batch_size=int(props.get("BatchSize", 10)),
        max_concurrency=int(scaling.get("MaximumConcurrency", 2)),
        **common,
    )


def _check_visibility_timeout(
    template: Template, resolver: Resolver, function: Resource, event: Mapping[str, Any]
) -> None:
    """Lambda refuses an SQS mapping whose queue hides messages for less time than the
    function may run: a message would come back while its first delivery still runs."""
    names = references((event.get("Properties") or {}).get("Queue")) & set(template.resources)
    if len(names) != 1:
        return  # a queue from outside the template
    queue = template.resources[names.pop()]
    visibility = int(resolver.resolve(queue.properties.get("VisibilityTimeout", 30)))
    timeout = float(resolver.resolve(function.properties.get("Timeout", 3)))
    if visibility < timeout:
        raise TemplateError(
            f"{function.logical_id}: {queue.logical_id}'s VisibilityTimeout ({visibility} s) "
            f"is less than the function's Timeout ({timeout:g} s); Lambda refuses the mapping"
        )


def _filter_patterns(criteria: Any) -> tuple[Mapping[str, Any], ...]:
    if not criteria:
        return ()
    patterns = []
    for entry in criteria.get("Filters") or ():
        pattern = entry.get("Pattern")
        parsed = json.loads(pattern) if isinstance(pattern, str) else pattern
        if not isinstance(parsed, Mapping):
            raise TemplateError(f"filter pattern must be a JSON object: {pattern!r}")
        patterns.append(parsed)
    return tuple(patterns)
