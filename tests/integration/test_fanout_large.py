"""A large channel on the local stack: 3,000 members, 1,500 of them online. A message posted
over HTTP takes the queue path (past FanoutThreshold's 1,000): the API function posts a
first slice, queues the rest on FanoutQueue, and FanoutFunction's consumers (FanoutConcurrency
workers, local/runtime.py) post the jobs. Each live connection gets the message exactly
once, with one eventId for all; a connection that went away in the middle is pruned, from
the table and from the online index.

The 1,500 connections are the gateway's stand-ins (local.gateway_ws.StandInConnection: no
socket, frames kept), their items written in the table directly, as `$connect` writes them.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from local.stack import Stack
from parley.adapters.dynamodb import channels as channel_store
from parley.adapters.dynamodb import connections as connection_store
from parley.adapters.dynamodb.base import epoch
from parley.adapters.dynamodb.items import ConnectionItem, UserConnectionsItem
from tests.integration.test_messaging import User

pytestmark = pytest.mark.integration

TABLE = "parley-local-AppTable"
MEMBERS = 3000
LIVE = 1500
AT = "2026-12-07T00:00:00Z"


def _write(dynamodb: Any, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        pending: dict[str, Any] = {TABLE: requests}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems")


def _seed(dynamodb: Any, wid: str, cid: str, users: list[str], live: list[str]) -> None:
    """`users` join the channel; each of `live` has one connection `conn-<user>`."""
    items = [channel_store.new_member(cid, wid, user, AT).serialize() for user in users]
    for user in live:
        conn = f"conn-{user}"
        items.append(
            ConnectionItem(
                *connection_store.connection_key(conn),
                connectionId=conn,
                userId=user,
                workspaceId=wid,
                connectedAt=AT,
                ttl=epoch(2**31 - 1),
            ).serialize()
        )
        pk, sk = connection_store.online_key(wid, user)
        items.append(
            UserConnectionsItem(
                *connection_store.user_connections_key(user, wid),
                conns={conn},
                GSI1PK=pk,
                GSI1SK=sk,
            ).serialize()
        )
    _write(dynamodb, items)


def test_a_channel_of_3000_with_1500_online_gets_the_message_once_each(stack: Stack) -> None:
    n = uuid.uuid4().hex[:8]
    alice = User(stack, f"falice{n}")
    status, created = alice.call("POST", "/workspaces", {"name": f"Large {n}"})
    assert status == 201, created
    wid = created["workspace"]["id"]
    status, channel = alice.call("POST", f"/workspaces/{wid}/channels", {"name": f"all-hands-{n}"})
    assert status == 201, channel
    cid = channel["channel"]["id"]
    users = [f"U{n}{i:05d}" for i in range(MEMBERS - 1)]
    live = users[:LIVE]
    dynamodb = stack.aws("dynamodb")
    _seed(dynamodb, wid, cid, users, live)
    sockets = stack.stand_in_connections([f"conn-{user}" for user in live])
    gone_user = live[LIVE // 2]
    sockets[f"conn-{gone_user}"].gone()  # went away without a $disconnect
    consumers = stack.function_pool("FanoutFunction")
    before = consumers.invocations
    status, posted = alice.call("POST", f"/channels/{cid}/messages", {"text": f"to all {n}"})
    assert status == 201, posted
    ts = posted["message"]["ts"]
    expected = {f"conn-{user}" for user in live if user != gone_user}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if all(sockets[conn].frames for conn in expected):
            break
        time.sleep(0.2)
    time.sleep(2)  # any repeat would come now
    frames = {conn: [json.loads(f) for f in sockets[conn].frames] for conn in expected}
    missing = sorted(conn for conn, got in frames.items() if not got)
    assert not missing, f"{len(missing)} connections got nothing, e.g. {missing[:3]}"
    counts = {len(got) for got in frames.values()}
    assert counts == {1}, "every live connection gets the message exactly once"
    assert {got[0]["message"]["ts"] for got in frames.values()} == {ts}
    assert len({got[0]["eventId"] for got in frames.values()}) == 1
    assert sockets[f"conn-{gone_user}"].frames == []
    # The queue path ran: jobs for the consumers (one each at least), several at once.
    assert consumers.invocations - before >= 10
    assert consumers.peak_concurrency >= 2
    # The gone connection is pruned: its item, and its user from the online index.
    key = {"PK": {"S": f"CONN#conn-{gone_user}"}, "SK": {"S": "CONN"}}
    deadline = time.monotonic() + 10
    while "Item" in dynamodb.get_item(TableName=TABLE, Key=key) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key)
    live_set = dynamodb.get_item(
        TableName=TABLE, Key={"PK": {"S": f"USER#{gone_user}"}, "SK": {"S": f"CONNS#{wid}"}}
    )["Item"]
    assert "GSI1PK" not in live_set
    assert "conns" not in live_set
