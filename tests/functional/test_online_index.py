"""The online index (parley.adapters.dynamodb.connections): written on connect, removed with
a user's last connection (a disconnect or a prune), and read instead of the member list for
large audiences and for the whole workspace, so that fan-out reads follow who is online."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.conftest import RecordingPoster
from tests.functional.test_fanout_cost import WORKSPACE, counted_requests, seed


@pytest.fixture
def store(poster: RecordingPoster) -> Any:
    from parley.adapters.dynamodb import connections
    from parley.wiring import configured

    configured()
    return connections


def test_connect_adds_and_the_last_disconnect_removes_the_user(store: Any) -> None:
    at = "2026-01-01T00:00:00Z"
    store.register("a-1", "alice", WORKSPACE, at, 2**31)
    store.register("a-2", "alice", WORKSPACE, at, 2**31)
    store.register("b-1", "bob", WORKSPACE, at, 2**31)
    store.register("c-1", "carol", "WOTHER", at, 2**31)  # another workspace's
    assert store.online_connections(WORKSPACE) == {"a-1": "alice", "a-2": "alice", "b-1": "bob"}
    store.forget("a-1", "alice", WORKSPACE)
    assert store.online_connections(WORKSPACE) == {"a-2": "alice", "b-1": "bob"}
    store.forget("a-2", "alice", WORKSPACE)  # her last: she leaves the index
    store.forget("a-2", "alice", WORKSPACE)  # a repeat changes nothing
    assert store.online_connections(WORKSPACE) == {"b-1": "bob"}
    from parley.adapters.dynamodb.items import UserConnectionsItem

    left = UserConnectionsItem.get("USER#alice", f"CONNS#{WORKSPACE}")
    assert (left.GSI1PK, left.GSI1SK, left.conns) == (None, None, set())
    store.register("a-3", "alice", WORKSPACE, at, 2**31)  # and back
    assert store.online_connections(WORKSPACE)["a-3"] == "alice"


@pytest.mark.parametrize(("members", "uses_index"), [(20, False), (60, True)])
def test_the_audience_is_read_from_the_member_list_or_the_index(
    store: Any, monkeypatch: pytest.MonkeyPatch, members: int, uses_index: bool
) -> None:
    """Below the threshold one BatchGetItem per 100 members (half a read unit each, online
    or not); from it one Query of who is online, whatever the member count."""
    monkeypatch.setattr(store, "INDEX_AUDIENCE", 50)
    seed(members, outside_connections=30)
    audience = [f"u{i}" for i in range(members)] + [f"offline{i}" for i in range(members)]
    with counted_requests() as counts:
        found = store.live_connections(WORKSPACE, audience)
    assert found == {f"conn-u{i}": f"u{i}" for i in range(members)}  # no outsider
    expected = {"Query": 1} if uses_index else {"BatchGetItem": 1}
    assert dict(counts) == expected


def test_a_workspace_wide_event_reads_who_is_online_not_the_members(
    poster: RecordingPoster, store: Any
) -> None:
    from parley.adapters.dynamodb.items import WorkspaceMemberItem
    from parley.adapters.dynamodb.workspaces import new_member
    from parley.wiring import broadcaster

    with WorkspaceMemberItem.batch_write() as batch:  # 500 members, 10 of them online
        for i in range(500):
            batch.save(new_member(WORKSPACE, f"m{i}", "member", "2026-01-01T00:00:00Z"))
    for i in range(10):
        store.register(f"conn-m{i}", f"m{i}", WORKSPACE, "2026-01-01T00:00:00Z", 2**31)
    with counted_requests() as counts:
        delivery = broadcaster().to_workspace(WORKSPACE, {"type": "channel_created"})
    assert delivery.delivered == 10
    assert dict(counts) == {"Query": 1}  # the index; no member item read


def test_a_gone_connection_found_through_the_index_is_pruned_from_it(
    poster: RecordingPoster, store: Any
) -> None:
    from parley.wiring import broadcaster

    for name in ("p", "q", "r"):
        store.register(f"conn-{name}", name, WORKSPACE, "2026-01-01T00:00:00Z", 2**31)
    poster.gone.add("conn-q")
    delivery = broadcaster().to_workspace(WORKSPACE, {"type": "channel_created"})
    assert (delivery.delivered, delivery.pruned) == (2, ["conn-q"])
    assert store.online_connections(WORKSPACE) == {"conn-p": "p", "conn-r": "r"}
