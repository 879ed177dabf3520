"""Fan-out cost: DynamoDB requests and wall time to deliver one message to a channel of M
members in a workspace where W other connections are live, beside the fan-out of aws-samples'
simple-websockets-chat-app run on the same connections.

Both run on moto in this process with a recording stand-in for @connections, so the times
compare code paths and request patterns, not AWS latencies. Requests and their read and
write units are counted with botocore's event hooks on each client (bench/capacity.py).

The baseline, written here from the sample's described behaviour: its connections table is
keyed by `connectionId` alone; every message Scans it (projecting `connectionId`), posts to
every connection concurrently and deletes a connection that answers 410. The sample reads one
Scan page; this version follows `LastEvaluatedKey`, so that it too delivers to everyone.
"""

from __future__ import annotations

import contextlib
import functools
import os
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from math import ceil
from typing import Any

from bench import environ
from bench.capacity import request_units
from local.stack import PROJECT_ROOT
from local.template import Template

WORKSPACE = "WBENCH00001"
APP_TABLE = "bench-fanout-app"
CHAT_TABLE = "bench-fanout-chat-connections"
NOW = "2026-01-01T00:00:00Z"
FOREVER = 2**31 - 1
POOL = 32  # concurrent posts, as Parley's Broadcaster makes them
PERSON_PAUSE_S = 0.11  # a person sends at most ten messages a second in one channel


class CountingPoster:
    """@connections stand-in: counts frames and answers 200 to every post."""

    def __init__(self) -> None:
        self.posts = 0

    def post(self, connection_id: str, data: bytes) -> bool:
        self.posts += 1
        return True


@contextmanager
def every_post_counted() -> Iterator[None]:
    """The rate limit's shared count for every post (its quiet tier off), as before the
    tier: the rows compare with earlier runs, and paths compared side by side do the same
    work (a bot always takes the count)."""
    from parley.domain import ratelimits

    saved = ratelimits.QUIET_TIER
    ratelimits.QUIET_TIER = False
    try:
        yield
    finally:
        ratelimits.QUIET_TIER = saved


def target_requests(members: int) -> int:
    return 2 + ceil(members / 100) + ceil(members / 1000)


@contextmanager
def moto_tables(local_changes: bool = True) -> Iterator[Any]:
    """moto in process holding Parley's table (from the template) and the sample's table;
    with the local stack's changes to moto unless `local_changes` is False."""
    import boto3
    from moto import mock_aws

    from local import moto_main

    environment = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "TABLE_NAME": APP_TABLE,
        "POWERTOOLS_METRICS_NAMESPACE": "ParleyBench",
        "POWERTOOLS_SERVICE_NAME": "parley",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        # moto in process intercepts botocore only, and the requests are counted with
        # botocore's event hooks: the store binds botocore's client, not the lean one.
        "PARLEY_DYNAMODB_CLIENT": "botocore",
    }
    with environ(environment, remove=("AWS_ENDPOINT_URL",)):
        # moto as the local stack runs it (local/moto_main's changes): stock moto's Query
        # walks and sorts the whole table, and answered the 5,000-member rows in 5 to 11 s.
        changes = moto_main.installed() if local_changes else contextlib.nullcontext()
        with changes, mock_aws(), moto_main.one_request_at_a_time():
            dynamodb = boto3.client("dynamodb")
            props = Template.load(PROJECT_ROOT / "template.yaml").resources["AppTable"].properties
            dynamodb.create_table(
                TableName=APP_TABLE,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=props["AttributeDefinitions"],
                KeySchema=props["KeySchema"],
                GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
            )
            dynamodb.create_table(
                TableName=CHAT_TABLE,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
            )
            yield dynamodb


def _seeding_backend() -> Any:
    """moto's DynamoDB backend, where the setup writes its items directly.

    moto's BatchWriteItem handler calls the backend's `put_item` or `delete_item` once per
    item; calling them here leaves the same items and skips botocore's request building and
    moto's parsing of it, which were most of the setup's time (about 30,000 connections and
    11,000 memberships in all). The measured requests still go through the clients."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]


def _connect(users: list[str], *, remove: bool = False) -> None:
    """Gives each user one live connection (or takes it away), in both designs' tables: the
    items Parley's `$connect` and the sample's `onconnect` write."""
    from parley.adapters.dynamodb.base import epoch
    from parley.adapters.dynamodb.connections import (
        connection_key,
        online_key,
        user_connections_key,
    )
    from parley.adapters.dynamodb.items import ConnectionItem, UserConnectionsItem

    backend = _seeding_backend()
    for user in users:
        conn = f"conn-{user}"
        if remove:
            for pk, sk in (connection_key(conn), user_connections_key(user, WORKSPACE)):
                backend.delete_item(APP_TABLE, {"PK": {"S": pk}, "SK": {"S": sk}})
            backend.delete_item(CHAT_TABLE, {"connectionId": {"S": conn}})
            continue
        connection = ConnectionItem(
            *connection_key(conn),
            connectionId=conn,
            userId=user,
            workspaceId=WORKSPACE,
            connectedAt=NOW,
            ttl=epoch(FOREVER),
        )
        online_pk, online_sk = online_key(WORKSPACE, user)
        # With the online index's keys, as `$connect` writes them: large audiences read it.
        connections = UserConnectionsItem(
            *user_connections_key(user, WORKSPACE),
            conns={conn},
            GSI1PK=online_pk,
            GSI1SK=online_sk,
        )
        backend.put_item(APP_TABLE, connection.serialize())
        backend.put_item(APP_TABLE, connections.serialize())
        backend.put_item(CHAT_TABLE, {"connectionId": {"S": conn}})


def _channel(members: list[str], channel_id: str) -> None:
    from parley.adapters.dynamodb import channels
    from parley.domain.records import ChannelRecord

    channel = ChannelRecord(
        channelId=channel_id,
        workspaceId=WORKSPACE,
        name=channel_id.lower(),
        type="public",
        createdBy=members[0],
        createdAt=NOW,
        memberCount=len(members),
    )
    backend = _seeding_backend()
    backend.put_item(APP_TABLE, channels.channel_item(channel).serialize())
    for user in members:
        member = channels.new_member(channel_id, WORKSPACE, user, NOW)
        backend.put_item(APP_TABLE, member.serialize())


def scan_broadcast(dynamodb: Any, data: bytes, poster: CountingPoster, pool: Any) -> int:
    """The sample's sendmessage: Scan every connection, post to each, drop the gone ones."""
    connection_ids: list[str] = []
    scan: dict[str, Any] = {"TableName": CHAT_TABLE, "ProjectionExpression": "connectionId"}
    while True:
        page = dynamodb.scan(**scan)
        connection_ids += [item["connectionId"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def post(conn: str) -> None:
        if not poster.post(conn, data):
            dynamodb.delete_item(TableName=CHAT_TABLE, Key={"connectionId": {"S": conn}})

    list(pool.map(post, connection_ids))
    return len(connection_ids)


@dataclass
class Sample:
    requests: int
    ms: float
    posts: int
    read_units: float
    write_units: float


def _measure(
    send: Any, client: Any, poster: CountingPoster, repeats: int, pause_s: float = 0.0
) -> Sample:
    samples = []
    for _ in range(repeats):
        time.sleep(pause_s)
        poster.posts = 0
        with request_units(client) as units:
            start = time.perf_counter()
            send()
            elapsed = (time.perf_counter() - start) * 1000
        samples.append(
            Sample(sum(units.requests.values()), elapsed, poster.posts, units.read, units.write)
        )
    if len({(s.requests, s.posts) for s in samples}) != 1:
        raise AssertionError(f"requests or posts varied between repeats: {samples}")
    first = samples[0]
    median_ms = statistics.median(s.ms for s in samples)
    return Sample(first.requests, median_ms, first.posts, first.read_units, first.write_units)


def run(
    members: tuple[int, ...] = (2, 50, 500, 5000),
    workspace_connections: tuple[int, ...] = (100, 10_000),
    repeats: int = 3,
) -> list[dict[str, Any]]:
    from parley import wiring
    from parley.adapters.dynamodb.base import botocore_client
    from parley.adapters.fanout import Broadcaster
    from parley.config import settings
    from parley.domain import messages
    from parley.domain.caller import Caller
    from parley.edge.schemas import PostMessage

    rows = []
    with moto_tables() as dynamodb, ThreadPoolExecutor(POOL) as pool, every_post_counted():
        settings.cache_clear()
        wiring.configured.cache_clear()
        wiring.configured()
        parley_client = botocore_client()
        parley_poster, scan_poster = CountingPoster(), CountingPoster()
        broadcaster = Broadcaster(parley_poster, max_workers=POOL)
        outsiders = 0
        for w in sorted(workspace_connections):
            _connect([f"x{i}" for i in range(outsiders, w)])
            outsiders = w
            for m in members:
                # Same-length ids in every row: item sizes (and so Query pages) must not vary.
                users = [f"m{m:05d}-{i:05d}" for i in range(m)]
                # One channel per M, written once and posted to in every W's row: its
                # members are the same users whatever W is (its messages sort after the
                # memberships that a post reads). Its id keeps the length the rows' ids had:
                # it is in every membership, so it sets the Query's pages and read units.
                channel_id = f"CB{min(workspace_connections):06d}X{m:05d}"
                if w == min(workspace_connections):
                    _channel(users, channel_id)
                _connect(users)
                sender = Caller(user_id=users[0], connection_id=f"conn-{users[0]}")
                body = PostMessage(text="benchmark message")
                event = {"type": "message", "channelId": channel_id, "text": body.text}

                send = functools.partial(
                    messages.post_message,
                    sender,
                    channel_id,
                    body,
                    broadcaster,
                    workspace_id=WORKSPACE,
                )
                fan_out = functools.partial(broadcaster.to_channel, WORKSPACE, channel_id, event)
                scan = functools.partial(
                    scan_broadcast, dynamodb, b'{"data":"benchmark message"}', scan_poster, pool
                )
                # Paced as a person types (at most 10 a second): a sender's burst costs the
                # rate limiter a second write per message (docs/decisions.md, GCRA).
                full = _measure(send, parley_client, parley_poster, repeats, PERSON_PAUSE_S)
                fan = _measure(fan_out, parley_client, parley_poster, repeats)
                baseline = _measure(scan, dynamodb, scan_poster, repeats)
                rows.append(
                    {
                        "members": m,
                        "workspaceConnections": w,
                        "ddbRequests": full.requests,
                        "ms": round(full.ms, 2),
                        "readUnits": full.read_units,
                        "writeUnits": full.write_units,
                        "fanoutRequests": fan.requests,
                        "fanoutMs": round(fan.ms, 2),
                        "delivered": full.posts,
                        "targetRequests": target_requests(m),
                        "pass": full.requests <= target_requests(m),
                        "scanBaselineRequests": baseline.requests,
                        "scanBaselineMs": round(baseline.ms, 2),
                        "scanBaselineReadUnits": baseline.read_units,
                        "scanBaselinePosts": baseline.posts,
                        "msRatio": round(full.ms / baseline.ms, 3),
                    }
                )
                _connect(users, remove=True)
        settings.cache_clear()
        wiring.configured.cache_clear()
    _check_blind_to_outsiders(rows)
    return rows


def _check_blind_to_outsiders(rows: list[dict[str, Any]]) -> None:
    """Parley's request count for a channel must not change with the workspace's size."""
    by_members: dict[int, set[int]] = {}
    for row in rows:
        by_members.setdefault(row["members"], set()).add(row["ddbRequests"])
    for row in rows:
        row["sameForEveryW"] = len(by_members[row["members"]]) == 1


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "Fan-out per message (moto in process, @connections recorded): Parley's whole "
        "sendMessage path vs. simple-websockets-chat-app's Scan-and-post",
        "",
        "| M members | W other conns | Parley DDB requests | of which fan-out | target "
        "| pass | same for every W | Parley RRU | Parley ms | of which fan-out ms | delivered "
        "| Scan baseline requests | baseline RRU | baseline ms | baseline posts "
        "| Parley ms / baseline ms |",
        "| ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['members']:,} | {r['workspaceConnections']:,} | {r['ddbRequests']} "
            f"| {r['fanoutRequests']} | ≤ {r['targetRequests']} "
            f"| {'yes' if r['pass'] else '**no**'} | {'yes' if r['sameForEveryW'] else '**no**'} "
            f"| {r['readUnits']:g} | {r['ms']:.1f} | {r['fanoutMs']:.1f} | {r['delivered']:,} "
            f"| {r['scanBaselineRequests']} | {r['scanBaselineReadUnits']:g} "
            f"| {r['scanBaselineMs']:.1f} | {r['scanBaselinePosts']:,} | {r['msRatio']:.2f} |"
        )
    return "\n".join(lines)
