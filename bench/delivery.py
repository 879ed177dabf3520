"""Delivery latency through the local stack: real WebSocket clients, the real gateway, the
real functions in their workers, moto for DynamoDB, beside a baseline that moves the same
frames through the same process's event loop with no function at all.

Parley: C clients (one user each) in K channels; senders take turns at R messages a second
for S seconds; every other member of the sender's channel must receive the `message` event.
Latency is from the sender's `send` to each receipt (one clock: all clients live in this
process); a receipt missing once the run has drained is lost.

Baseline: an aiohttp WebSocket server started on the stack's own event loop (the thread that
runs the gateways) relays each frame to the other members of the sender's group, with the
same clients, groups, rate and duration. It is what the stack's transport costs when no
function, no worker and no DynamoDB sit in the path, so the difference is what Parley adds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from websockets.asyncio.client import ClientConnection, connect

from bench import cpu
from local.soak import HttpClient, token_subject
from local.stack import Stack, StackConfig

# After the last send, receipts may still arrive: wait while they keep coming, but give up
# after STALL_S without one or DRAIN_CAP_S in all. What has not arrived by then is lost.
STALL_S = 10.0
DRAIN_CAP_S = 30.0
BASELINE_MAX_S = 20.0  # a relay's percentiles settle fast; the run must fit in ten minutes
# One second at the full rate queues 50 sends, more than the stack's workers take at once,
# so each function scales to its limit; three seconds queued 150, which took about 20 s to
# drain before the light phase could start.
WARMUP_S = 1.0
LIGHT_RATE_PER_S = 5.0  # a load the stack sustains on two cores: latency without queueing
# The run has no OpenSearch (its JVM would take a core of the two): the search indexer,
# whose every batch would fail, does not read its queue. The stream's consumers (the
# notifier, and the stream forwarder that fills that queue) run; bench/search.py measures
# indexing with OpenSearch.
WITHOUT_SEARCH_ENGINE = frozenset({"SearchIndexerFunction"})


@dataclass(frozen=True)
class Plan:
    clients: int = 200
    channels: int = 20
    rate_per_s: float = 50
    seconds: float = 60

    def kwargs(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Run:
    """What one phase (Parley or the baseline) saw."""

    sent_at: dict[str, float] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    expected: int = 0
    errors: list[str] = field(default_factory=list)
    first_send: float = 0.0
    last_receipt: float = 0.0

    def receive(self, message_id: str) -> None:
        sent = self.sent_at.get(message_id)
        if sent is not None:
            self.last_receipt = time.perf_counter()
            self.latencies_ms.append((self.last_receipt - sent) * 1000)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "sent": len(self.sent_at),
            "expected": self.expected,
            "received": len(lat),
            "lost": self.expected - len(lat),
            "p50Ms": _percentile(lat, 50),
            "p95Ms": _percentile(lat, 95),
            "p99Ms": _percentile(lat, 99),
            "maxMs": round(lat[-1], 1) if lat else None,
            "receiptsPerS": round(len(lat) / (self.last_receipt - self.first_send), 1)
            if lat
            else 0,
            "errors": self.errors[:5],
        }


def _percentile(ordered: list[float], p: float) -> float | None:
    if not ordered:
        return None
    if len(ordered) == 1:
        return round(ordered[0], 1)
    return round(statistics.quantiles(ordered, n=100, method="inclusive")[int(p) - 1], 1)


# ------------------------------------------------------------------------------ setup


@dataclass
class Team:
    workspace_id: str
    channel_of: list[str]  # per client
    tokens: list[str]


def _api(stack: Stack, token: str, method: str, path: str, body: Any = None) -> Any:
    return HttpClient(stack.http_url).call(token, method, path, body)


def build_team(stack: Stack, plan: Plan) -> Team:
    """A workspace and its channels through the HTTP API, one Cognito user per client, and
    their memberships written straight into the table; the owner, a member of every channel,
    never connects, so each client hears one channel."""
    owner = stack.login("bench-owner").id_token
    wid = _api(stack, owner, "POST", "/workspaces", {"name": "Bench"})["workspace"]["id"]
    general = next(
        channel["id"]
        for channel in _api(stack, owner, "GET", f"/workspaces/{wid}/channels")["channels"]
        if channel["name"] == "general"
    )
    channels = [
        _api(stack, owner, "POST", f"/workspaces/{wid}/channels", {"name": f"bench-{k}"})[
            "channel"
        ]["id"]
        for k in range(plan.channels)
    ]
    channel_of = [channels[i % plan.channels] for i in range(plan.clients)]
    with ThreadPoolExecutor(8) as pool:
        tokens = list(
            pool.map(lambda i: stack.login(f"bench-{i:04d}").id_token, range(plan.clients))
        )
    users = [token_subject(token) for token in tokens]
    members = {general: users} | {
        channel: [user for user, c in zip(users, channel_of, strict=True) if c == channel]
        for channel in channels
    }
    join_directly(stack, wid, members)
    return Team(wid, channel_of, tokens)


def join_directly(stack: Stack, workspace_id: str, members: dict[str, list[str]]) -> None:
    """What accepting the workspace's invite (which joins `general`) and being added to a
    channel write, written straight into the table: Parley's own items for the workspace's
    and each channel's memberships, by BatchWriteItem (25 items a request, four threads), then
    each channel's memberCount. Through the HTTP API each membership is a transaction behind
    the authorizer and a function: 400 of them took 25 to 30 s of the run under load."""
    from parley.adapters.dynamodb import channels as channel_store
    from parley.adapters.dynamodb import workspaces as workspace_store
    from parley.ids import iso_now

    assert stack.aws is not None
    dynamodb = stack.aws("dynamodb")
    table = next(t for t in dynamodb.list_tables()["TableNames"] if t.endswith("AppTable"))
    now = iso_now()
    users = dict.fromkeys(user for joined in members.values() for user in joined)
    items: list[Any] = [workspace_store.new_member(workspace_id, u, "member", now) for u in users]
    for channel_id, joined in members.items():
        items += [channel_store.new_member(channel_id, workspace_id, u, now) for u in joined]

    def write(batch: list[Any]) -> None:
        request: Any = {table: [{"PutRequest": {"Item": item.serialize()}} for item in batch]}
        while request:
            request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, [items[i : i + 25] for i in range(0, len(items), 25)]))
    for channel_id, joined in members.items():
        key = dict(zip(("PK", "SK"), channel_store.channel_key(channel_id), strict=True))
        dynamodb.update_item(
            TableName=table,
            Key={name: {"S": value} for name, value in key.items()},
            UpdateExpression="ADD memberCount :joined",
            ExpressionAttributeValues={":joined": {"N": str(len(joined))}},
        )


# ------------------------------------------------------------------------------ driving


# Connecting is setup, not what the benchmark measures: the first connections wait while the
# stack starts the authorizer's and $connect's workers (sixteen each, importing at once on two
# cores), which took longer than websockets' default of 10 s.
OPEN_TIMEOUT_S = 60.0


async def _connect_all(urls: list[str]) -> list[ClientConnection]:
    gate = asyncio.Semaphore(16)

    async def one(url: str) -> ClientConnection:
        async with gate:
            return await connect(
                url, proxy=None, max_size=None, ping_interval=None, open_timeout=OPEN_TIMEOUT_S
            )

    return list(await asyncio.gather(*(one(u) for u in urls)))


class Clients:
    """Open WebSocket clients, each read by one task that hands its frames to the phase
    running now. Parley's phases share one set: connecting 200 clients costs the stack 200
    `$connect` and authorizer invocations (and 200 `$disconnect` afterwards), which is setup,
    not delivery, and as clients of a chat app they stay connected between messages."""

    def __init__(self, sockets: list[ClientConnection]) -> None:
        self.sockets = sockets
        self.on_frame: Callable[[dict[str, Any]], None] = lambda frame: None
        self._readers = [asyncio.create_task(self._read(ws)) for ws in sockets]

    @classmethod
    async def connect(cls, urls: list[str]) -> Clients:
        return cls(await _connect_all(urls))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                frame = json.loads(raw)
                if isinstance(frame, dict):
                    self.on_frame(frame)

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        await asyncio.gather(*self._readers, return_exceptions=True)


async def _drive(
    *,
    clients: Clients,
    plan: Plan,
    run: Run,
    frame_for: Callable[[int, str], str],
    receivers_per_message: Callable[[int], int],
    on_frame: Callable[[dict[str, Any]], None],
    phase: str,
) -> None:
    """Sends at the plan's rate, then waits for the receipts to drain. Message ids carry the
    phase's name, so that a late receipt of an earlier phase is not counted in this one."""
    clients.on_frame = on_frame
    sockets = clients.sockets
    interval = 1.0 / plan.rate_per_s
    total = int(plan.rate_per_s * plan.seconds)
    start = run.first_send = time.perf_counter()
    for n in range(total):
        delay = start + n * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sender = n % len(sockets)
        message_id = f"{phase}-m{n}"
        run.sent_at[message_id] = time.perf_counter()
        run.expected += receivers_per_message(sender)
        try:
            await sockets[sender].send(frame_for(sender, message_id))
        except Exception as error:  # a send that fails counts its receipts as lost
            run.errors.append(repr(error))
    cap = time.perf_counter() + DRAIN_CAP_S
    seen, progress_at = -1, time.perf_counter()
    while len(run.latencies_ms) < run.expected:
        now = time.perf_counter()
        if len(run.latencies_ms) != seen:
            seen, progress_at = len(run.latencies_ms), now
        if now > cap or now - progress_at > STALL_S:
            break
        await asyncio.sleep(0.05)


def _group_size(channel_of: list[str]) -> Callable[[int], int]:
    sizes = {c: channel_of.count(c) for c in set(channel_of)}
    return lambda sender: sizes[channel_of[sender]] - 1


async def parley_phase(clients: Clients, team: Team, plan: Plan, phase: str) -> Run:
    run = Run()

    def frame_for(sender: int, message_id: str) -> str:
        return json.dumps(
            {
                "action": "sendMessage",
                "id": message_id,
                "channelId": team.channel_of[sender],
                "text": message_id,
            }
        )

    def on_frame(frame: dict[str, Any]) -> None:
        if frame.get("type") == "message":
            run.receive(frame["message"]["text"])
        elif frame.get("type") == "error" or frame.get("message") == "Internal server error":
            run.errors.append(json.dumps(frame)[:300])

    await _drive(
        clients=clients,
        plan=plan,
        run=run,
        frame_for=frame_for,
        receivers_per_message=_group_size(team.channel_of),
        on_frame=on_frame,
        phase=phase,
    )
    return run


class RelayServer:
    """The baseline: relays each frame to the other members of the sender's group."""

    def __init__(self, group_of: list[str]) -> None:
        self._group_of = group_of
        self._members: dict[str, list[web.WebSocketResponse]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{client}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # aiohttp's TCPSite has started, so its server is set
        self.url = f"ws://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        group = self._group_of[int(request.match_info["client"])]
        self._members.setdefault(group, []).append(ws)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                for peer in self._members[group]:
                    if peer is not ws and not peer.closed:
                        await peer.send_str(message.data)
        self._members[group].remove(ws)
        return ws


async def baseline_phase(run_on_stack: Callable[..., Any], team: Team, plan: Plan) -> Run:
    run = Run()
    relay = RelayServer(team.channel_of)
    await asyncio.to_thread(run_on_stack, relay.start())
    try:
        clients = await Clients.connect([f"{relay.url}/{i}" for i in range(plan.clients)])

        def frame_for(sender: int, message_id: str) -> str:
            return json.dumps({"type": "message", "message": {"text": message_id}})

        def on_frame(frame: dict[str, Any]) -> None:
            if frame.get("type") == "message":
                run.receive(frame["message"]["text"])

        await _drive(
            clients=clients,
            plan=plan,
            run=run,
            frame_for=frame_for,
            receivers_per_message=_group_size(team.channel_of),
            on_frame=on_frame,
            phase="baseline",
        )
        await clients.close()
    finally:
        await asyncio.to_thread(run_on_stack, relay.stop())
    return run


def _progress(started: float, line: str) -> None:
    print(f"  delivery ({time.monotonic() - started:.0f} s): {line}", file=sys.stderr, flush=True)


async def parley_phases(
    stack: Stack, team: Team, plan: Plan, started: float
) -> tuple[Run, Run, dict[str, float]]:
    """Warm-up, light load, then the full rate, on one set of connected clients; returns
    the light and full runs and the CPU per message of the full one."""
    urls = [f"{stack.ws_url}?token={t}&workspaceId={team.workspace_id}" for t in team.tokens]
    clients = await Clients.connect(urls)
    try:
        # Unmeasured: brings up the workers that the full rate needs (Lambda's scale-out
        # cold starts are the cold-start benchmark's business, not this one's).
        _progress(started, f"{plan.clients} clients connected; warming up")
        warm_plan = Plan(plan.clients, plan.channels, plan.rate_per_s, WARMUP_S)
        await parley_phase(clients, team, warm_plan, "warm")
        _progress(started, f"Parley at {LIGHT_RATE_PER_S:g}/s")
        light_plan = Plan(plan.clients, plan.channels, LIGHT_RATE_PER_S, min(plan.seconds, 10))
        light = await parley_phase(clients, team, light_plan, "light")
        _progress(started, f"Parley at {plan.rate_per_s:g}/s for {plan.seconds:g} s")
        before = cpu.snapshot()
        full = await parley_phase(clients, team, plan, "full")
        # Where each message's CPU went: on two cores, the sum bounds the sustainable rate.
        cpu_ms = cpu.per_unit_ms(before, cpu.snapshot(), len(full.sent_at))
    finally:
        await clients.close()
    return light, full, cpu_ms


def run(
    clients: int = 200, channels: int = 20, rate_per_s: float = 50, seconds: float = 60
) -> dict[str, Any]:
    plan = Plan(clients, channels, rate_per_s, seconds)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-stack-") as state:
        config = StackConfig(
            state_dir=Path(state),
            http_port=0,
            ws_port=0,
            aws_port=0,
            poll_interval_s=0.2,
            disabled_event_sources=WITHOUT_SEARCH_ENGINE,
        )
        with Stack(config) as stack:
            _progress(started, "stack up")
            team_started = time.monotonic()
            team = build_team(stack, plan)
            setup_s = time.monotonic() - team_started
            _progress(started, f"{clients} users ready in {setup_s:.0f} s")
            light_run, full_run, cpu_ms = asyncio.run(parley_phases(stack, team, plan, started))
            light, parley = light_run.summary(), full_run.summary()
            parley["cpuMsPerMessage"] = cpu_ms
            _progress(started, f"baseline relay, {min(seconds, BASELINE_MAX_S):g} s")
            baseline_plan = Plan(clients, channels, rate_per_s, min(seconds, BASELINE_MAX_S))
            baseline = asyncio.run(baseline_phase(stack._run, team, baseline_plan)).summary()
    _progress(started, "done")
    return {
        "clients": clients,
        "channels": channels,
        "ratePerS": rate_per_s,
        "seconds": seconds,
        "p50Ms": parley["p50Ms"],
        "p95Ms": parley["p95Ms"],
        "p99Ms": parley["p99Ms"],
        "lost": parley["lost"],
        "baselineP50Ms": baseline["p50Ms"],
        "baselineP95Ms": baseline["p95Ms"],
        "baselineP99Ms": baseline["p99Ms"],
        "baselineLost": baseline["lost"],
        "baselineSeconds": baseline_plan.seconds,
        "targetP99Ms": 100,
        "pass": parley["p99Ms"] is not None and parley["p99Ms"] <= 100 and parley["lost"] == 0,
        "parley": parley,
        "lightLoad": {"ratePerS": LIGHT_RATE_PER_S, **light},
        "baseline": baseline,
        "setupS": round(setup_s, 1),
    }


def table(result: dict[str, Any]) -> str:
    p, b, light = result["parley"], result["baseline"], result["lightLoad"]

    def row(name: str, s: dict[str, Any]) -> str:
        return (
            f"| {name} | {s['sent']:,} | {s['expected']:,} | {s['received']:,} | {s['lost']:,} "
            f"| {s['p50Ms']} | {s['p95Ms']} | {s['p99Ms']} | {s['maxMs']} | {s['receiptsPerS']} |"
        )

    ratio = f"{p['p99Ms'] / b['p99Ms']:.1f}" if p["p99Ms"] is not None and b["p99Ms"] else "n/a"
    return "\n".join(
        [
            f"Delivery through the local stack: {result['clients']} clients in "
            f"{result['channels']} channels, {result['ratePerS']:g} messages/s for "
            f"{result['seconds']:g} s (setup {result['setupS']} s); target p99 ≤ "
            f"{result['targetP99Ms']} ms and 0 lost: {'met' if result['pass'] else '**not met**'}",
            "",
            "| path | sent | receipts expected | received | lost | p50 ms | p95 ms | p99 ms "
            "| max ms | receipts/s |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            row(f"Parley at {result['ratePerS']:g}/s (gateway → sendMessage → @connections)", p),
            row(
                f"baseline at {result['ratePerS']:g}/s for {result['baselineSeconds']:g} s "
                "(relay on the gateway's loop, no function)",
                b,
            ),
            row(f"Parley at {light['ratePerS']:g}/s (light load)", light),
            "",
            f"p99 / baseline p99: {ratio}",
            "",
            _cpu_line(p.get("cpuMsPerMessage") or {}),
        ]
    )


def _cpu_line(per_message: dict[str, float]) -> str:
    if not per_message:
        return "CPU per message: not measured (no /proc)"
    parts = ", ".join(f"{group} {ms:g}" for group, ms in per_message.items())
    total = sum(per_message.values())
    return (
        f"CPU per message at the full rate: {total:.0f} ms ({parts}); two cores sustain at most "
        f"about {2000 / total:.0f} messages/s at this cost"
    )
