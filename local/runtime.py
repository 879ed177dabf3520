"""The asynchronous half of the stack: function pools, the two gateways and the pollers,
on one event loop, serving sockets the stack has already bound."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from local.aws import AwsClients
from local.gateway_http import PARSER_LINE_BYTES, HttpGateway
from local.gateway_ws import WebSocketGateway
from local.jwt_auth import GatewayVerifier
from local.pollers import QueuePoller, SchedulePoller, StreamPoller
from local.sam import (
    AsyncInvocation,
    EventSource,
    FunctionSpec,
    HttpApi,
    ScheduleSource,
    StreamSource,
    WebSocketApi,
)
from local.sam import queue_concurrency as sam_queue_concurrency
from local.scheduler import LocalScheduler
from local.workers import FunctionPool, worker_cap
from parley.adapters.cognito import Jwks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuntimePlan:
    """Everything the runtime serves, resolved."""

    functions: Mapping[str, FunctionSpec]
    environments: Mapping[str, Mapping[str, str]]  # per function
    http_api: HttpApi | None
    websocket_api: WebSocketApi | None
    event_sources: Sequence[EventSource]
    jwks_url: Callable[[str], str]  # issuer -> where its keys are served locally
    # Each function's asynchronous retries, for the schedules local.scheduler fires.
    async_invocations: Mapping[str, AsyncInvocation] = field(default_factory=dict)


class Runtime:
    def __init__(
        self,
        plan: RuntimePlan,
        aws: AwsClients,
        *,
        http_socket: socket.socket,
        ws_socket: socket.socket,
        max_workers_per_function: int,
        poll_interval_s: float,
        schedule_interval_s: float | None = None,
        scheduler_poll_s: float = 1.0,
        scheduler_clock: Callable[[], float] | None = None,
    ) -> None:
        self._plan = plan
        self._aws = aws
        self._sockets = {"HTTP API": http_socket, "WebSocket API": ws_socket}
        self._max_workers = max_workers_per_function
        self._poll_interval_s = poll_interval_s
        self._schedule_interval_s = schedule_interval_s
        self._scheduler_poll_s = scheduler_poll_s
        self._scheduler_clock = scheduler_clock
        self.scheduler: LocalScheduler | None = None
        self.pools: dict[str, FunctionPool] = {}
        self._runners: list[web.AppRunner] = []
        self._ws_gateway: WebSocketGateway | None = None
        self._pollers: list[asyncio.Task[None]] = []

    @property
    def ws_gateway(self) -> WebSocketGateway | None:
        return self._ws_gateway

    async def start(self, prewarm: bool) -> None:
        plan = self._plan
        queue_concurrency = sam_queue_concurrency(plan.event_sources)
        self.pools = {
            name: FunctionPool(
                spec,
                plan.environments[name],
                worker_cap(spec, self._max_workers, queue_concurrency.get(name, 0)),
            )
            for name, spec in plan.functions.items()
        }
        if plan.http_api:
            verifiers = {
                route.authorizer.name: GatewayVerifier(
                    route.authorizer.issuer,
                    route.authorizer.audiences,
                    Jwks(plan.jwks_url(route.authorizer.issuer)),
                )
                for route in plan.http_api.routes
                if route.authorizer
            }
            gateway = HttpGateway(plan.http_api, self.pools, verifiers)
            await self._serve("HTTP API", gateway.application())
        if plan.websocket_api:
            self._ws_gateway = WebSocketGateway(plan.websocket_api, self.pools)
            await self._serve("WebSocket API", self._ws_gateway.application())
        if prewarm:
            await asyncio.gather(*(pool.warm() for pool in self.pools.values()))
        starting: list[tuple[StreamPoller | QueuePoller | SchedulePoller, asyncio.Task[None]]] = []
        for source in plan.event_sources:
            pool, interval = self.pools[source.function], self._poll_interval_s
            poller: StreamPoller | QueuePoller | SchedulePoller
            if isinstance(source, StreamSource):
                poller = StreamPoller(source, pool, self._aws, interval)
            elif isinstance(source, ScheduleSource):
                poller = SchedulePoller(
                    source, pool, self._aws, interval, self._schedule_interval_s
                )
            else:
                poller = QueuePoller(source, pool, self._aws, interval)
            task = asyncio.create_task(poller.run())
            task.add_done_callback(_report_poller_end)
            self._pollers.append(task)
            starting.append((poller, task))
        # EventBridge Scheduler's one-time schedules, which moto keeps but never fires.
        self.scheduler = LocalScheduler(
            self._aws,
            self.pools,
            plan.async_invocations,
            self._scheduler_poll_s,
            **({"clock": self._scheduler_clock} if self._scheduler_clock else {}),
        )
        scheduler_task = asyncio.create_task(self.scheduler.run())
        scheduler_task.add_done_callback(_report_poller_end)
        self._pollers.append(scheduler_task)
        # The stack has started once every mapping has its place, as a deployed mapping has
        # it when created: a write after the start is seen by a LATEST stream mapping.
        for poller, task in starting:
            placed = asyncio.create_task(poller.ready.wait())
            await asyncio.wait({placed, task}, return_when=asyncio.FIRST_COMPLETED)
            placed.cancel()

    async def _serve(self, name: str, app: web.Application) -> None:
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=5,
            max_line_size=PARSER_LINE_BYTES,
            max_field_size=PARSER_LINE_BYTES,
        )
        await runner.setup()
        self._runners.append(runner)
        await web.SockSite(runner, self._sockets[name]).start()

    async def drop_websockets(self) -> int:
        return await self._ws_gateway.drop_all() if self._ws_gateway else 0

    async def stop(self) -> None:
        for task in self._pollers:
            task.cancel()
        await asyncio.gather(*self._pollers, return_exceptions=True)
        await self._aws.json.close()
        if self._ws_gateway:
            await self._ws_gateway.close_all()
        for runner in self._runners:
            await runner.cleanup()
        await asyncio.gather(*(pool.stop() for pool in self.pools.values()))


def _report_poller_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception():
        log.error("an event source poller stopped", exc_info=task.exception())
