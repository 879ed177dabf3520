"""The whole local stack: moto with the template's resources, the functions, both gateways
and the pollers, started and stopped as one.

    with Stack(StackConfig()) as stack:
        tokens = stack.login("alice")
        requests.get(f"{stack.http_url}/me", headers={"authorization": f"Bearer {tokens.id_token}"})

`Stack` is synchronous: the gateways, pools and pollers run on an event loop in a
background thread, so tests and the CLI drive it the same way.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import threading
from collections.abc import Collection, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from local import aws, sam
from local.aws import FAKE_CREDENTIALS, AwsClients, MotoServer
from local.cognito import Tokens, UserPool
from local.gateway_ws import StandInConnection
from local.intrinsics import REGION, Resolver, as_string
from local.runtime import Runtime, RuntimePlan
from local.scheduler import OffsetClock
from local.template import Template, TemplateError
from local.workers import FunctionPool, default_worker_cap, lambda_environment

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PASSWORD = "Parley-demo-1"  # noqa: S105 - the local demo's published password


class LocalService(Protocol):
    """A service the stack runs beside moto, started once the AWS resources exist; the
    variables it returns reach every function. Search (OpenSearch) plugs in here."""

    name: str

    def start(self, state_dir: Path) -> Mapping[str, str]: ...

    def stop(self) -> None: ...


# Template parameters whose AWS default does not suit a local stack (applied when the
# template declares them; StackConfig.parameters still wins): app receivers run on 127.0.0.1.
LOCAL_PARAMETERS = {"AllowPrivateAppUrls": "true"}


@dataclass(frozen=True)
class StackConfig:
    template: Path = PROJECT_ROOT / "template.yaml"
    state_dir: Path = PROJECT_ROOT / ".local"
    # Preferred ports; a taken one falls back to a free one, 0 asks for a free one.
    http_port: int = 3000
    ws_port: int = 3001
    aws_port: int = 3002
    parameters: Mapping[str, str] = field(default_factory=dict)
    # Workers of a function whose template reserves no concurrency (local.workers).
    max_workers_per_function: int = field(default_factory=default_worker_cap)
    poll_interval_s: float = 0.2
    # Every schedule's period, in place of the template's rate (tests that cannot wait a
    # minute); None runs each at its own rate.
    schedule_interval_s: float | None = None
    # How often the local scheduler looks for due one-time schedules (EventBridge
    # Scheduler's): their lateness is up to one period.
    scheduler_poll_s: float = 1.0
    prewarm: bool = True
    services: Sequence[LocalService] = ()
    # Functions whose event sources do not run, as if each mapping had `Enabled: false`
    # (a run without OpenSearch leaves the search indexer's queue alone).
    disabled_event_sources: frozenset[str] = frozenset()


def enabled_event_sources(
    sources: Sequence[sam.EventSource], functions: Collection[str], disabled: Collection[str]
) -> list[sam.EventSource]:
    """The event sources but those of the `disabled` functions, each of which must exist."""
    unknown = set(disabled) - set(functions)
    if unknown:
        raise TemplateError(f"disabled_event_sources: no function {', '.join(sorted(unknown))}")
    return [source for source in sources if source.function not in disabled]


def _listening_socket(preferred: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", preferred))
    except OSError:
        log.warning("port %d is taken; using a free port instead", preferred)
        sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _free_port(preferred: int) -> int:
    """A port for a server in another process (moto): the preferred one if it is free."""
    with _listening_socket(preferred) as probe:
        port: int = probe.getsockname()[1]
    return port


class EndpointRewriter:
    """Turns the AWS URLs that the template builds (API endpoints, Cognito's JWKS) into the
    local ones; every other value passes unchanged."""

    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self._prefixes = dict(prefixes)

    def __call__(self, value: str) -> str:
        for prefix, local in self._prefixes.items():
            if value.startswith(prefix):
                return local + value[len(prefix) :]
        return value


class Stack:
    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.region = REGION
        self.http_url = ""
        self.ws_url = ""
        self.aws_url = ""
        self.user_pool: UserPool | None = None
        self.aws: AwsClients | None = None
        self._moto: MotoServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runtime: Runtime | None = None
        self._sockets: list[socket.socket] = []
        self._started_services: list[LocalService] = []
        self._known_users: set[str] = set()
        # The local scheduler's clock: tests advance it rather than wait for a schedule.
        self.scheduler_clock = OffsetClock()

    # ------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        config = self.config
        template = Template.load(config.template)
        local_defaults = {
            name: value for name, value in LOCAL_PARAMETERS.items() if name in template.parameters
        }
        resolver = Resolver(template, {**local_defaults, **config.parameters})
        self._moto = MotoServer(_free_port(config.aws_port), config.state_dir / "moto.log")
        self._moto.start()
        self.aws_url = self._moto.url
        self.aws = AwsClients(self.aws_url)
        sam.register_runtime_resources(template, resolver, aws.CREATED_TYPES)
        aws.provision(template, resolver, self.aws)
        self.user_pool = self._user_pool(template, resolver)
        log.info("AWS services on %s, with the template's resources", self.aws_url)

        http_socket = _listening_socket(config.http_port)
        ws_socket = _listening_socket(config.ws_port)
        self._sockets = [http_socket, ws_socket]
        self.http_url = f"http://127.0.0.1:{http_socket.getsockname()[1]}"
        self.ws_url = f"ws://127.0.0.1:{ws_socket.getsockname()[1]}"

        service_variables: dict[str, str] = {}
        for service in config.services:
            service_variables.update(service.start(config.state_dir))
            self._started_services.append(service)
        plan = self._plan(template, resolver, service_variables)
        self._runtime = Runtime(
            plan,
            self.aws,
            http_socket=http_socket,
            ws_socket=ws_socket,
            max_workers_per_function=config.max_workers_per_function,
            poll_interval_s=config.poll_interval_s,
            schedule_interval_s=config.schedule_interval_s,
            scheduler_poll_s=config.scheduler_poll_s,
            scheduler_clock=self.scheduler_clock,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="local-stack", daemon=True
        )
        self._thread.start()
        self._run(self._runtime.start(config.prewarm))
        # What the start made (boto3's service models above all) lives as long as the stack.
        # Frozen (`gc.freeze`), it is no longer walked by every full collection: one held the
        # gateways' event loop for 136 ms in a delivery probe at 50 messages a second.
        gc.freeze()
        log.info(
            "%d functions, %d HTTP routes, %d WebSocket routes, %d event sources",
            len(plan.functions),
            len(plan.http_api.routes) if plan.http_api else 0,
            len(plan.websocket_api.routes) if plan.websocket_api else 0,
            len(plan.event_sources),
        )

    def stop(self) -> None:
        """Stops everything that started, in reverse order; safe to call more than once."""
        if self._runtime and self._loop:
            try:
                self._run(self._runtime.stop(), timeout=30)
            except Exception:
                log.exception("the runtime did not stop cleanly")
            self._runtime = None
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
            self._loop, self._thread = None, None
        for sock in self._sockets:
            sock.close()  # the gateways' servers close them too; this covers a failed start
        self._sockets.clear()
        for service in reversed(self._started_services):
            service.stop()
        self._started_services.clear()
        if self._moto:
            self._moto.stop()
            self._moto = None

    def function_pool(self, logical_id: str) -> FunctionPool:
        """A function's workers (its `invocations` and `peak_concurrency` so far)."""
        assert self._runtime is not None
        return self._runtime.pools[logical_id]

    def stand_in_connections(self, connection_ids: Sequence[str]) -> dict[str, StandInConnection]:
        """WebSocket connections without sockets (local.gateway_ws.StandInConnection), for
        fan-out at scale: the caller writes their items in the table itself."""
        assert self._runtime is not None
        gateway = self._runtime.ws_gateway
        assert gateway is not None, "the template has no WebSocket API"

        async def made() -> dict[str, StandInConnection]:
            return gateway.stand_in(connection_ids)

        result: dict[str, StandInConnection] = self._run(made(), timeout=10)
        return result

    def _run(self, work: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    # --------------------------------------------------------------------------- wiring

    def _rewriter(
        self,
        http_api: sam.HttpApi | None,
        websocket_api: sam.WebSocketApi | None,
        template: Template,
        resolver: Resolver,
    ) -> EndpointRewriter:
        prefixes = {}
        if http_api:
            prefixes[sam.execute_api_url(http_api.api_id)] = self.http_url
        if websocket_api:
            prefixes[sam.execute_api_url(websocket_api.api_id, "wss")] = self.ws_url
            # The management API (@connections) lives on the same port, over plain HTTP.
            prefixes[sam.execute_api_url(websocket_api.api_id)] = self.ws_url.replace(
                "ws", "http", 1
            )
        for pool in resolver.active(template.of_type("AWS::Cognito::UserPool")):
            provider_url = resolver.get_att(pool.logical_id, "ProviderURL")
            pool_id = resolver.ref(pool.logical_id)
            prefixes[f"{provider_url}/.well-known/jwks.json"] = (
                f"{self.aws_url}/{pool_id}/.well-known/jwks.json"
            )
        return EndpointRewriter(prefixes)

    def _plan(
        self, template: Template, resolver: Resolver, service_variables: Mapping[str, str]
    ) -> RuntimePlan:
        http_api = sam.http_api(template, resolver)
        websocket_api = sam.websocket_api(template, resolver)
        rewrite = self._rewriter(http_api, websocket_api, template, resolver)
        local_variables = {
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": "testing",
            # Lambda has no ~/.aws; a developer's profiles must not change what functions do.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            **service_variables,
        }
        functions = sam.functions(template, resolver)
        environments = {
            name: lambda_environment(
                spec,
                {
                    key: rewrite(as_string(resolver.resolve(value)))
                    for key, value in spec.environment.items()
                },
                local_variables,
            )
            for name, spec in functions.items()
        }
        return RuntimePlan(
            functions=functions,
            environments=environments,
            http_api=http_api,
            websocket_api=websocket_api,
            event_sources=enabled_event_sources(
                sam.event_sources(template, resolver),
                functions.keys(),
                self.config.disabled_event_sources,
            ),
            jwks_url=lambda issuer: rewrite(f"{issuer}/.well-known/jwks.json"),
            async_invocations=sam.async_invocations(template, resolver),
        )

    def _user_pool(self, template: Template, resolver: Resolver) -> UserPool | None:
        pools = resolver.active(template.of_type("AWS::Cognito::UserPool"))
        clients = resolver.active(template.of_type("AWS::Cognito::UserPoolClient"))
        if not pools or not clients:
            return None
        if len(pools) > 1 or len(clients) > 1:
            raise TemplateError("the local stack expects one user pool and one app client")
        assert self.aws is not None
        return UserPool(
            self.aws("cognito-idp"),
            resolver.ref(pools[0].logical_id),
            resolver.ref(clients[0].logical_id),
        )

    def drop_websockets(self) -> int:
        """Closes every WebSocket connection, as a network drop ends them (clients test
        their reconnect); how many there were."""
        if self._runtime is None:
            raise RuntimeError("the stack is not running")
        count: int = self._run(self._runtime.drop_websockets(), timeout=30)
        return count

    # ---------------------------------------------------------------------------- users

    def login(self, username: str, *, name: str | None = None) -> Tokens:
        """Logs `username` in with the default password, creating and confirming the user
        (email `<username>@example.com`) on first use."""
        if self.user_pool is None:
            raise RuntimeError("the template has no user pool")
        if username not in self._known_users:
            email = f"{username}@example.com"
            self.user_pool.create_user(username, DEFAULT_PASSWORD, email, name)
            self._known_users.add(username)
        return self.user_pool.login(username, DEFAULT_PASSWORD)

    def describe(self) -> dict[str, Any]:
        """The stack's endpoints, in `.local/stack.json`'s shape (without `demo`)."""
        cognito = {"endpoint": self.aws_url, "userPoolId": None, "clientId": None}
        if self.user_pool:
            cognito.update(userPoolId=self.user_pool.pool_id, clientId=self.user_pool.client_id)
        return {
            "region": self.region,
            "httpUrl": self.http_url,
            "wsUrl": self.ws_url,
            "cognito": cognito,
        }
