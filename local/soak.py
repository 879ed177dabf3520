"""Soak: many WebSocket clients and many messages through the local stack, counting what a
client would notice: messages lost, delivered twice to one connection, and error frames.

    python -m local.soak                                   # make soak: 500 clients, 10,000 messages
    python -m local.soak --clients 40 --messages 200 --rate 10
    python -m local.soak --no-search                       # the same during a search outage

Most users hold one connection, as most people run one client; `--multi-device-users` of
them hold `--devices` connections each, so that delivery to every device of a user stays
covered. Users are spread over public channels of `--channel-size` members; each message
goes over a sender's WebSocket (`sendMessage`) to the sender's channel at a steady `--rate`
(messages per second across all senders). Every connection of the channel's members should
get it once, except the sending connection, which has the ack. The counts are the verdict;
the throughput it reached (sends acked and deliveries per second) is reported beside them,
since the local stack's speed is the machine's, not Parley's.

The stack runs OpenSearch as `make up` does, where the machine has a JDK and Maven, and the
verdict then also asks that every acked message reach the search index (counted in
OpenSearch, by workspace) within `--index-wait` seconds of the last delivery: the stream,
the forwarder, the index queue and the indexer, under the same load. `--no-search` runs the
stack with search down (the index queue keeps every change for its retries): a soak during
a search outage, the harder case for the local moto.

Exit status 0 when nothing was lost, duplicated or refused, else 1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import requests
from websockets.asyncio.client import ClientConnection, connect

from local.search_node import search_services
from local.stack import Stack, StackConfig

_ACK_TIMEOUT_S = 120.0
_SETUP_THREADS = 8
_CONNECT_AT_ONCE = 25
_ADD_AT_ONCE = 8  # userIds per POST /channels/{cid}/members
# A handshake runs the authorizer and $connect, cold the first time: slow on a busy machine.
_HANDSHAKE_TIMEOUT_S = 60.0
# The search index's read alias (parley.search.mapping.READ_ALIAS; the layer is not on this
# process's path, and a unit test keeps the two equal).
SEARCH_ALIAS = "messages"


@dataclass(frozen=True)
class SoakConfig:
    clients: int = 500
    messages: int = 10_000
    rate: float = 25.0  # messages per second, all senders together: 10,000 in 400 s
    channel_size: int = 10  # users per channel
    # A few users on several devices (connections); everyone else on one.
    multi_device_users: int = 10
    devices: int = 3
    drain_s: float = 60.0  # how long deliveries may trail the last ack
    # Sends awaiting their ack at most: beyond the stack's pace, sends wait here (as a
    # client waits for its acks) instead of queueing in the gateway until they time out.
    in_flight: int = 50
    # Sending stops after this long (0: never), so that the run ends in bounded time
    # whatever the stack's pace; what was not sent is reported, and the counts still judge.
    send_budget_s: float = 0.0
    # How long the index may trail the last delivery when the stack runs search.
    index_wait_s: float = 120.0


@dataclass
class SoakReport:
    clients: int = 0
    users: int = 0
    channels: int = 0
    requested: int = 0
    messages: int = 0  # sent
    acked: int = 0
    expected_deliveries: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    misdelivered: int = 0  # to a connection whose user is not in the channel
    error_frames: int = 0
    failed_sends: int = 0  # no ack: a timeout or a gateway error
    indexed: int | None = None  # messages in the search index; None: the stack has no search
    index_wait_s: float = 0.0  # from the end of the drain until all were indexed (or it gave up)
    setup_s: float = 0.0
    send_s: float = 0.0
    drain_s: float = 0.0
    requested_rate: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.misdelivered
            or self.error_frames
            or self.failed_sends
            or self.acked != self.messages
            or (self.indexed is not None and self.indexed != self.acked)
        )

    @property
    def send_rate(self) -> float:
        return self.acked / self.send_s if self.send_s else 0.0

    @property
    def delivery_rate(self) -> float:
        elapsed = self.send_s + self.drain_s
        return self.delivered / elapsed if elapsed else 0.0

    def table(self) -> str:
        rows = [
            (
                "clients (connections)",
                f"{self.clients} ({self.users} users, {self.channels} channels)",
            ),
            ("messages asked / sent / acked", f"{self.requested} / {self.messages} / {self.acked}"),
            ("deliveries expected / made", f"{self.expected_deliveries} / {self.delivered}"),
            ("lost", str(self.lost)),
            ("delivered twice", str(self.duplicated)),
            ("to a non-member", str(self.misdelivered)),
            ("error frames", str(self.error_frames)),
            ("sends without an ack", str(self.failed_sends)),
            ("rate asked / reached", f"{self.requested_rate:g} / {self.send_rate:.1f} msg/s"),
            ("deliveries per second", f"{self.delivery_rate:.0f}"),
            (
                "setup / sending / draining",
                f"{self.setup_s:.0f} s / {self.send_s:.0f} s / {self.drain_s:.1f} s",
            ),
        ]
        if self.indexed is not None:
            rows.append(
                (
                    "indexed for search",
                    f"{self.indexed} of {self.acked} ({self.index_wait_s:.1f} s after the drain)",
                )
            )
        rows.append(("verdict", "PASS" if self.ok else "FAIL"))
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


@dataclass
class _Member:
    name: str
    token: str
    user_id: str = ""
    channel: str = ""
    sockets: list[ClientConnection] = field(default_factory=list)


class HttpClient:
    """The HTTP API as a user calls it: a bearer token, JSON in and out, errors raised."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def call(self, token: str, method: str, path: str, body: Any = None) -> Any:
        reply = self.session.request(
            method,
            f"{self.base_url}{path}",
            json=body,
            headers={"authorization": f"Bearer {token}"},
            timeout=60,
        )
        if reply.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text[:200]}")
        return reply.json() if reply.content else None


def devices_per_user(config: SoakConfig) -> list[int]:
    """How many connections each user holds: `clients` in all, the multi-device users first."""
    multi = min(config.multi_device_users, config.clients // max(1, config.devices))
    devices = [config.devices] * multi
    return devices + [1] * (config.clients - sum(devices))


def _set_up(
    stack: Stack, config: SoakConfig, run: str
) -> tuple[str, list[_Member], dict[str, list[_Member]]]:
    """A workspace, its channels and members (all through the public API). The owner creates
    the channels and adds their members in bulk, as an admin would; the owner never
    connects, so every connection hears exactly one channel."""
    http = HttpClient(stack.http_url)
    users = len(devices_per_user(config))
    owner = stack.login(f"soak-{run}-owner").id_token
    wid = http.call(owner, "POST", "/workspaces", {"name": f"Soak {run}"})["workspace"]["id"]
    code = http.call(owner, "POST", f"/workspaces/{wid}/invites")["invite"]["code"]
    channel_ids = [
        http.call(owner, "POST", f"/workspaces/{wid}/channels", {"name": f"soak-{run}-{k}"})[
            "channel"
        ]["id"]
        for k in range(math.ceil(users / config.channel_size))
    ]

    def join(n: int) -> _Member:
        member = _Member(name=f"soak-{run}-{n}", token=stack.login(f"soak-{run}-{n}").id_token)
        member.user_id = token_subject(member.token)
        HttpClient(stack.http_url).call(member.token, "POST", f"/invites/{code}/accept")
        member.channel = channel_ids[n % len(channel_ids)]
        return member

    with ThreadPoolExecutor(_SETUP_THREADS) as pool:
        members = list(pool.map(join, range(users)))
    by_channel: dict[str, list[_Member]] = {cid: [] for cid in channel_ids}
    for member in members:
        by_channel[member.channel].append(member)
    for cid, channel_members in by_channel.items():
        ids = [m.user_id for m in channel_members]
        for start in range(0, len(ids), _ADD_AT_ONCE):
            batch = ids[start : start + _ADD_AT_ONCE]
            http.call(owner, "POST", f"/channels/{cid}/members", {"userIds": batch})
    return wid, members, by_channel


def token_subject(token: str) -> str:
    """The user id (`sub`) of a token this stack issued; read, not verified."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])


class _Tally:
    def __init__(self) -> None:
        self.received: Counter[tuple[int, str, str]] = Counter()  # (socket, channel, ts)
        self.errors: list[dict[str, Any]] = []
        self.acks: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def read(self, index: int, ws: ClientConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message":
                self.received[(index, frame["channelId"], frame["message"]["ts"])] += 1
            elif frame.get("replyTo") in self.acks and kind in ("ack", "error"):
                future = self.acks[frame["replyTo"]]
                if not future.done():
                    future.set_result(frame)
            if kind == "error" or (kind is None and "message" in frame):
                self.errors.append(frame)  # an error frame, or the gateway's own error


async def _connect_all(
    stack: Stack, wid: str, members: list[_Member], devices: list[int]
) -> list[ClientConnection]:
    """Every member's connections, a few handshakes at a time (each runs two functions)."""
    sockets: list[ClientConnection] = []
    pending = [m for m, count in zip(members, devices, strict=True) for _ in range(count)]
    for start in range(0, len(pending), _CONNECT_AT_ONCE):
        chunk = pending[start : start + _CONNECT_AT_ONCE]
        opened = await asyncio.gather(
            *(
                connect(
                    f"{stack.ws_url}?token={m.token}&workspaceId={wid}",
                    proxy=None,
                    max_queue=None,
                    open_timeout=_HANDSHAKE_TIMEOUT_S,
                )
                for m in chunk
            )
        )
        for member, ws in zip(chunk, opened, strict=True):
            member.sockets.append(ws)
            sockets.append(ws)
    return sockets


def _count(
    report: SoakReport,
    tally: _Tally,
    expected: set[tuple[int, str, str]],
    member_of: dict[int, str],
) -> None:
    report.expected_deliveries = len(expected)
    report.delivered = sum(1 for key in tally.received if key in expected)
    report.lost = len(expected - tally.received.keys())
    report.duplicated = sum(count - 1 for count in tally.received.values())
    report.misdelivered = sum(1 for (i, cid, _) in tally.received if member_of[i] != cid)
    report.error_frames = len(tally.errors)
    report.errors = [json.dumps(frame)[:300] for frame in tally.errors[:5]]


class _Traffic:
    """Sends the messages at the configured pace and records who should receive each."""

    def __init__(
        self,
        config: SoakConfig,
        report: SoakReport,
        tally: _Tally,
        by_channel: dict[str, list[_Member]],
        *,
        socket_index: dict[int, int],
        run: str,
    ) -> None:
        self.config, self.report, self.tally, self.run = config, report, tally, run
        self.by_channel, self.socket_index = by_channel, socket_index
        self.expected: set[tuple[int, str, str]] = set()
        self.gate = asyncio.Semaphore(config.in_flight)

    async def send_all(self, members: list[_Member]) -> None:
        config, senders, tasks = self.config, itertools.cycle(members), []
        sending = time.monotonic()
        for n in range(config.messages):
            if config.send_budget_s and time.monotonic() - sending > config.send_budget_s:
                break
            delay = sending + n / config.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.gate.acquire()
            tasks.append(asyncio.create_task(self.send(n, next(senders))))
        self.report.messages = len(tasks)
        await asyncio.gather(*tasks)

    async def send(self, n: int, sender: _Member) -> None:
        try:
            await self._send_one(n, sender)
        finally:
            self.gate.release()

    async def _send_one(self, n: int, sender: _Member) -> None:
        ws = sender.sockets[n % len(sender.sockets)]
        frame_id = f"m{n}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.tally.acks[frame_id] = future
        frame = {
            "action": "sendMessage",
            "id": frame_id,
            "channelId": sender.channel,
            "text": f"soak {self.run} {n}",
        }
        await ws.send(json.dumps(frame))
        try:
            reply = await asyncio.wait_for(future, _ACK_TIMEOUT_S)
        except TimeoutError:
            self.report.failed_sends += 1
            return
        if reply.get("type") != "ack" or not reply.get("ok"):
            return  # counted among the error frames by the reader
        self.report.acked += 1
        ts = reply["message"]["ts"]
        for member in self.by_channel[sender.channel]:
            for other in member.sockets:
                if other is not ws:
                    self.expected.add((self.socket_index[id(other)], sender.channel, ts))


async def run_soak(stack: Stack, config: SoakConfig, run: str = "") -> SoakReport:
    run = run or time.strftime("%H%M%S")
    report = SoakReport(requested_rate=config.rate, requested=config.messages)
    started = time.monotonic()
    wid, members, by_channel = await asyncio.to_thread(_set_up, stack, config, run)
    tally = _Tally()
    sockets = await _connect_all(stack, wid, members, devices_per_user(config))
    readers = [asyncio.create_task(tally.read(i, ws)) for i, ws in enumerate(sockets)]
    socket_index = {id(ws): i for i, ws in enumerate(sockets)}
    report.clients, report.users, report.channels = len(sockets), len(members), len(by_channel)
    report.setup_s = time.monotonic() - started

    traffic = _Traffic(config, report, tally, by_channel, socket_index=socket_index, run=run)
    sending = time.monotonic()
    await traffic.send_all(members)
    report.send_s = time.monotonic() - sending
    expected = traffic.expected

    draining = time.monotonic()
    while time.monotonic() - draining < config.drain_s and not expected <= tally.received.keys():
        await asyncio.sleep(0.2)
    report.drain_s = time.monotonic() - draining

    for ws in sockets:
        await ws.close()
    await asyncio.gather(*readers, return_exceptions=True)
    member_of = {socket_index[id(ws)]: m.channel for m in members for ws in m.sockets}
    _count(report, tally, expected, member_of)

    search = search_url(stack)
    if search is not None:
        waiting = time.monotonic()
        report.indexed = await asyncio.to_thread(
            _await_index, search, wid, report.acked, config.index_wait_s
        )
        report.index_wait_s = time.monotonic() - waiting
    return report


def search_url(stack: Stack) -> str | None:
    """The stack's OpenSearch endpoint, when it runs one."""
    for service in stack.config.services:
        url = getattr(service, "url", "")
        if service.name == "opensearch" and url:
            return str(url)
    return None


def indexed_messages(search: str, workspace_id: str) -> int:
    """Messages of the workspace in the search index (what a search can find): none while
    the index does not exist yet."""
    query = {
        "bool": {
            "filter": [{"term": {"workspaceId": workspace_id}}],
            "must_not": [{"term": {"deleted": True}}],
        }
    }
    reply = requests.post(f"{search}/{SEARCH_ALIAS}/_count", json={"query": query}, timeout=10)
    if reply.status_code == 404:
        return 0
    reply.raise_for_status()
    return int(reply.json()["count"])


def _await_index(search: str, workspace_id: str, expected: int, wait_s: float) -> int:
    """Polls the index until it holds `expected` messages of the workspace or `wait_s` has
    passed; returns the last count."""
    deadline = time.monotonic() + wait_s
    while True:
        count = indexed_messages(search, workspace_id)
        if count >= expected or time.monotonic() >= deadline:
            return count
        time.sleep(1.0)


def main(argv: Sequence[str] | None = None) -> int:
    defaults = SoakConfig()
    parser = argparse.ArgumentParser(
        prog="python -m local.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clients", type=int, default=defaults.clients)
    parser.add_argument("--messages", type=int, default=defaults.messages)
    parser.add_argument("--rate", type=float, default=defaults.rate, help="messages per second")
    parser.add_argument("--channel-size", type=int, default=defaults.channel_size)
    parser.add_argument("--multi-device-users", type=int, default=defaults.multi_device_users)
    parser.add_argument("--devices", type=int, default=defaults.devices, help="theirs each")
    parser.add_argument("--drain", type=float, default=defaults.drain_s, help="seconds")
    parser.add_argument("--in-flight", type=int, default=defaults.in_flight)
    parser.add_argument(
        "--send-budget",
        type=float,
        default=450.0,
        help="stop sending after this many seconds (0: send all); make soak's ten minutes",
    )
    parser.add_argument(
        "--max-workers",
        type=int,
        default=None,
        help="workers per function (default: the stack's, 8 per core)",
    )
    parser.add_argument(
        "--no-search",
        action="store_true",
        help="run without OpenSearch (by default it runs where the machine can, as in make up)",
    )
    parser.add_argument(
        "--index-wait",
        type=float,
        default=defaults.index_wait_s,
        help="seconds the index may trail the last delivery (when the stack runs search)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON too")
    arguments = parser.parse_args(argv)
    config = SoakConfig(
        clients=arguments.clients,
        messages=arguments.messages,
        rate=arguments.rate,
        channel_size=arguments.channel_size,
        multi_device_users=arguments.multi_device_users,
        devices=arguments.devices,
        drain_s=arguments.drain,
        in_flight=arguments.in_flight,
        send_budget_s=arguments.send_budget,
        index_wait_s=arguments.index_wait,
    )
    import tempfile
    from pathlib import Path

    workers = (
        {} if arguments.max_workers is None else {"max_workers_per_function": arguments.max_workers}
    )
    services = [] if arguments.no_search else search_services(port=0)
    with (
        tempfile.TemporaryDirectory(prefix="parley-soak-") as state,
        Stack(
            StackConfig(
                state_dir=Path(state),
                http_port=0,
                ws_port=0,
                aws_port=0,
                services=services,
                **workers,
            )
        ) as stack,
    ):
        report = asyncio.run(run_soak(stack, config))
    print(report.table())
    if arguments.json:
        print(
            json.dumps(
                {
                    **asdict(report),
                    "send_rate": report.send_rate,
                    "delivery_rate": report.delivery_rate,
                }
            )
        )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
