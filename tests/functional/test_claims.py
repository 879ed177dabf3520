"""A person who signs up claims the placeholder a Slack import made for their email (API.md,
"Importing from Slack"): in the sample export Carol's email is Erin's, who has no Parley
profile at import time, so Carol's history is imported under a placeholder; Erin's first
call makes it hers: memberships, authorship, reactions, mentions, the group DM."""

from __future__ import annotations

from typing import Any

import pytest

from parley.domain import claims
from parley.imports.mapping import placeholder_user_id
from tests.functional.conftest import ALICE, BOB, ERIN, Api
from tests.functional.test_imports import (
    Worker,
    channels_by_name,
    get,
    history,
    import_export,
    table_items,
)
from tests.slack_exports import CAROL as CAROL_SLACK
from tests.slack_exports import DAY1, DAY2, ROOT_TS, TEAM, sample_export, ts_at

THREAD_REPLIES = [ts_at(DAY1, 3700), ts_at(DAY1, 3800), ts_at(DAY2, 100)]


def erins_export() -> bytes:
    export = sample_export()
    (carol,) = [u for u in export.users if u["id"] == CAROL_SLACK]
    carol["profile"]["email"] = "Erin@Example.com"  # whatever its case
    return export.build()


def _carol(api: Api, wid: str) -> str:
    general = channels_by_name(api, wid)["general"]["id"]
    replies = get(api, f"/channels/{general}/messages/{ROOT_TS}/replies")["messages"]
    return str(replies[1]["userId"])


def _everything(api: Api, wid: str, user: str) -> dict[str, Any]:
    """What `user` reads of the workspace: channels, their members and history, threads."""
    seen: dict[str, Any] = {}
    for name, channel in sorted(channels_by_name(api, wid, user).items()):
        messages = history(api, channel["id"], user)
        for message in messages:
            if message.get("replyCount"):
                path = f"/channels/{channel['id']}/messages/{message['ts']}/replies"
                message["replies"] = get(api, path, user)["messages"]
        members = get(api, f"/channels/{channel['id']}/members", user)["members"]
        seen[name] = {"members": sorted(m["id"] for m in members), "history": messages}
    return seen


@pytest.fixture
def worker(api: Api) -> Worker:
    found = Worker()
    found.purge()  # what other tests left
    return found


@pytest.fixture
def imported(api: Api, worker: Worker, workspace: dict[str, str]) -> tuple[str, str]:
    """The workspace and Carol's placeholder, before Erin has called."""
    status = import_export(api, worker, workspace["wid"], erins_export())
    assert status["status"] == "done", status
    return workspace["wid"], _carol(api, workspace["wid"])


def test_the_first_sign_in_claims_memberships_and_authorship(
    api: Api, imported: tuple[str, str]
) -> None:
    wid, placeholder = imported
    assert placeholder not in (ALICE, BOB, ERIN)
    me = get(api, "/me", ERIN)["user"]  # Erin's first call
    assert me["id"] == ERIN
    assert wid in [w["id"] for w in get(api, "/workspaces", ERIN)["workspaces"]]
    members = [m["user"]["id"] for m in get(api, f"/workspaces/{wid}/members")["members"]]
    assert ERIN in members
    assert placeholder not in members

    mine = channels_by_name(api, wid, ERIN)
    assert {"general", "random"} <= set(mine)
    general = mine["general"]["id"]
    root = get(api, f"/channels/{general}/messages/{ROOT_TS}", ERIN)["message"]
    assert f"<@{ERIN}>" in root["text"]
    assert placeholder not in root["text"]
    thumbs = next(r for r in root["reactions"] if r["name"] == "thumbsup")
    assert sorted(thumbs["users"]) == sorted([BOB, ERIN])
    replies = get(api, f"/channels/{general}/messages/{ROOT_TS}/replies", ERIN)["messages"]
    assert [r["userId"] for r in replies] == [BOB, ERIN, BOB]

    # Nothing that was imported is unread to her, and nothing anywhere names the placeholder.
    unreads = get(api, f"/workspaces/{wid}/unreads", ERIN)
    assert [c for c in unreads["channels"] if c["unreadCount"] or c["mentionCount"]] == []
    assert placeholder not in str(_everything(api, wid, ALICE))


def test_her_group_dm_is_the_imported_one(api: Api, imported: tuple[str, str]) -> None:
    wid, _ = imported
    get(api, "/me", ERIN)
    group = next(c for c in channels_by_name(api, wid, ERIN).values() if c["type"] == "group_dm")
    status, opened = api("POST", f"/workspaces/{wid}/dms", body={"userIds": [BOB, ERIN]})
    assert status in (200, 201), opened
    assert opened["channel"]["id"] == group["id"]  # the same three people: the same DM
    members = get(api, f"/channels/{group['id']}/members", ERIN)["members"]
    assert sorted(m["id"] for m in members) == sorted([ALICE, BOB, ERIN])


def test_a_claim_is_once_and_a_rerun_of_the_import_writes_nothing(
    api: Api, worker: Worker, imported: tuple[str, str]
) -> None:
    wid, _ = imported
    get(api, "/me", ERIN)
    before = table_items(imports=False)
    assert claims.claim_placeholders(ERIN, "erin@example.com", None) == []  # claimed already
    again = import_export(api, worker, wid, erins_export())
    assert again["status"] == "done", again
    assert table_items(imports=False) == before


def test_a_long_history_goes_on_through_the_import_queue(
    api: Api, worker: Worker, imported: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no time for history in the request, memberships move at once and authorship
    follows from the queue."""
    wid, placeholder = imported
    monkeypatch.setattr(claims, "INLINE_SECONDS", 0.0)
    monkeypatch.setattr(claims, "PAGE", 2)  # pages, so that a cursor is carried along
    get(api, "/me", ERIN)
    general = channels_by_name(api, wid, ERIN)["general"]["id"]
    path = f"/channels/{general}/messages/{ROOT_TS}/replies"
    assert [r["userId"] for r in get(api, path, ERIN)["messages"]] == [BOB, placeholder, BOB]
    worker.drain()
    assert [r["userId"] for r in get(api, path, ERIN)["messages"]] == [BOB, ERIN, BOB]
    assert any('"kind":"claim"' in body for body in worker.bodies)
    assert placeholder not in str(_everything(api, wid, ALICE))


def test_malformed_claim_work_is_dropped(worker: Worker) -> None:
    assert worker.run(['{"kind": "claim", "placeholder": "p", "user": "u", "channels": 3}']) == []


def test_a_claim_while_the_import_runs_is_completed_when_it_is_done(
    api: Api, worker: Worker, workspace: dict[str, str]
) -> None:
    """Erin signs in after the plan made her placeholder and before any day file ran: what
    the chunks write after her claim becomes hers once the import is done."""
    from tests.functional.test_imports import planned_chunks

    wid = workspace["wid"]
    chunks = planned_chunks(api, worker, wid, erins_export())  # users, channels made
    get(api, "/me", ERIN)  # her claim: memberships now, no history yet
    assert worker.run(chunks) == []
    worker.drain()  # what the import's end queued
    assert any('"memberships":true' in body for body in worker.bodies)
    general = channels_by_name(api, wid, ERIN)["general"]["id"]
    replies = get(api, f"/channels/{general}/messages/{ROOT_TS}/replies", ERIN)["messages"]
    assert [r["userId"] for r in replies] == [BOB, ERIN, BOB]
    members = [m["user"]["id"] for m in get(api, f"/workspaces/{wid}/members")["members"]]
    assert ERIN in members
    placeholder = placeholder_user_id(wid, TEAM, CAROL_SLACK)
    assert placeholder not in str(_everything(api, wid, ALICE))


def test_a_membership_the_person_has_already_leaves_one_member(
    api: Api, imported: tuple[str, str]
) -> None:
    """The import added the placeholder to a channel after the claim (its end queues the
    move again): where Erin is a member already, the placeholder's membership goes and the
    channel counts each person once."""
    from parley.domain.ports.channels import store as channel_store

    wid, placeholder = imported
    get(api, "/me", ERIN)
    general = channels_by_name(api, wid, ERIN)["general"]
    channel = channel_store.get_channel(general["id"])
    assert channel is not None
    assert channel_store.add_channel_members(channel, [placeholder], "2024-01-01T00:00:00Z")
    claims.move_memberships(placeholder, ERIN)
    claims.move_memberships(placeholder, ERIN)  # again: nothing left to move
    members = get(api, f"/channels/{general['id']}/members", ERIN)["members"]
    ids = [m["id"] for m in members]
    assert placeholder not in ids
    assert ids.count(ERIN) == 1
    after = channels_by_name(api, wid, ERIN)["general"]
    assert after["memberCount"] == len(ids) == general["memberCount"]
