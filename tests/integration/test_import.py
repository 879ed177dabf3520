"""A Slack export imported end to end on the local stack by the import command
(local/importer.py): its login through the local Cognito, the import routes, the presigned
POST to moto's S3, the import function; then read back through the HTTP API as a person
would: channels, history pages with Slack's ts, threads, reactions, authors, search. The
same export imported a second time (the command's `--api-url --token` way) changes nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from local import importer
from local.stack import DEFAULT_PASSWORD, Stack
from tests.integration import test_search
from tests.integration.test_messaging import User
from tests.slack_exports import (
    ALICE,
    ALICE_SHARED,
    BOB,
    CAROL,
    DAY1,
    DAY2,
    RANDOM,
    ROOT_TS,
    ExportBuilder,
    sample_export,
    ts_at,
)

pytestmark = pytest.mark.integration

search_node = test_search.search_node  # skips the search test where the stack has no search

IMPORT_TIMEOUT_S = 180
THREAD_REPLIES = [ts_at(DAY1, 3700), ts_at(DAY1, 3800), ts_at(DAY2, 100)]
# general's top-level messages, newest first: the file share, the app's and the legacy bot's
# posts, the reply broadcast to the channel (in both lists, as in Slack) and the thread's
# root; the join, the leave and the topic change are no messages.
GENERAL_HISTORY = [
    ts_at(DAY1, 4200),
    ts_at(DAY1, 4100),
    ts_at(DAY1, 4000),
    ts_at(DAY1, 3800),
    ROOT_TS,
]
NOTICES = [ts_at(DAY1, 60), ts_at(DAY1, 4300), ts_at(DAY2, 200)]
WORD_TS = ts_at(DAY2, 500)


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def import_id(self) -> str:
        return self.out.split()[1]  # "import <id> done: ..."


@dataclass
class Imported:
    admin: User
    bob: User
    wid: str
    general: str  # the workspace's own general, made with it
    word: str
    first: Run
    second: Run
    before: dict[str, Any]  # the workspace as read after the first run
    after: dict[str, Any]  # and after the second


def _export(admin_email: str, bob_email: str, word: str) -> ExportBuilder:
    """The sample with its people's emails those of this test's users (the admin's in
    another case, as Slack keeps what people typed), and one message with a word no other
    test writes."""
    export = sample_export()
    emails = {ALICE: admin_email.upper(), ALICE_SHARED: admin_email, BOB: bob_email}
    for user in export.users:
        if user["id"] in emails:
            user["profile"]["email"] = emails[user["id"]]
    export.post(RANDOM, WORD_TS, user=BOB, text=f"the {word}s are migrating south")
    return export


def _run(argv: list[str]) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = importer.main([*argv, "--interval", "0.2", "--timeout", str(IMPORT_TIMEOUT_S)], out)
    return Run(code, out.getvalue(), err.getvalue())


def _get(user: User, path: str) -> Any:
    status, body = user.call("GET", path)
    assert status == 200, (path, body)
    return body


def _pages(user: User, path: str, key: str, limit: int = 200) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = _get(user, f"{path}?limit={limit}" + (f"&cursor={quote(cursor)}" if cursor else ""))
        items.extend(page[key])
        cursor = page.get("nextCursor")
        if not cursor:
            return items


def _workspace(user: User, wid: str) -> dict[str, Any]:
    """Everything the admin reads of the workspace: channels, members, and every channel's
    history with its threads."""
    channels = sorted(
        _pages(user, f"/workspaces/{wid}/channels", "channels"), key=lambda c: c["id"]
    )
    history = {}
    for channel in channels:
        messages = _pages(user, f"/channels/{channel['id']}/messages", "messages")
        for message in messages:
            if message.get("replyCount"):
                path = f"/channels/{channel['id']}/messages/{message['ts']}/replies"
                message["replies"] = _pages(user, path, "messages")
        history[channel["id"]] = messages
    members = sorted(m["user"]["id"] for m in _pages(user, f"/workspaces/{wid}/members", "members"))
    return {"channels": channels, "members": members, "history": history}


@pytest.fixture(scope="module")
def imported(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Imported:
    n = uuid.uuid4().hex[:8]
    admin, bob = User(stack, f"ialice{n}"), User(stack, f"ibob{n}")  # bob: not in the workspace
    status, created = admin.call("POST", "/workspaces", {"name": f"Imported {n}"})
    assert status == 201, created
    wid = created["workspace"]["id"]
    general = next(c["id"] for c in _get(admin, f"/workspaces/{wid}/channels")["channels"])
    word = f"quokka{n}"

    folder = tmp_path_factory.mktemp("import")
    export = folder / "Acme Slack export Mar 1 2024 - Mar 2 2024.zip"
    export.write_bytes(_export(f"ialice{n}@example.com", f"ibob{n}@example.com", word).build())
    stack_file = folder / "stack.json"  # as `make up` writes it, for the command's login
    stack_file.write_text(json.dumps({**stack.describe(), "demo": {"password": DEFAULT_PASSWORD}}))

    what = ["--workspace", wid, "--file", str(export)]
    first = _run(["--stack", str(stack_file), "--user", f"ialice{n}", *what])
    assert first.code == 0, first
    before = _workspace(admin, wid)
    second = _run(["--api-url", stack.http_url, "--token", admin.token, *what])
    assert second.code == 0, second
    return Imported(admin, bob, wid, general, word, first, second, before, _workspace(admin, wid))


def _channel(imported: Imported, **match: Any) -> dict[str, Any]:
    found = [c for c in imported.after["channels"] if all(c.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, imported.after["channels"])
    return found[0]


def _message(imported: Imported, channel_id: str, ts: str) -> dict[str, Any]:
    return next(m for m in imported.after["history"][channel_id] if m["ts"] == ts)


def _status(imported: Imported, run: Run) -> dict[str, Any]:
    status: dict[str, Any] = _get(imported.admin, f"/imports/{run.import_id}")["import"]
    return status


# ---------------------------------------------------------------- the command


def test_the_command_uploads_follows_and_reports_the_counts(imported: Imported) -> None:
    run = imported.first
    assert run.out.startswith(f"import {run.import_id} done: ")
    status = _status(imported, run)
    assert status["status"] == "done"
    assert set(status["counts"]) >= {
        "users",
        "channels",
        "messages",
        "replies",
        "reactions",
        "files",
    }
    assert (
        status["counts"]["channels"] == 6
    )  # general, random, 日本語, secret, the DM, the group DM
    assert status["counts"]["replies"] == len(THREAD_REPLIES)
    assert importer.counts_text(status["counts"]) in run.out
    assert "upload [" in run.err
    assert "100%" in run.err
    assert "import " in run.err


def test_the_same_export_again_has_the_same_counts_and_writes_nothing_new(
    imported: Imported,
) -> None:
    first, second = _status(imported, imported.first), _status(imported, imported.second)
    assert second["id"] != first["id"]
    assert second["counts"] == first["counts"]
    assert imported.after == imported.before


# ---------------------------------------------------------------- what was imported


def test_each_conversation_is_a_channel_of_its_kind(imported: Imported) -> None:
    general = _channel(imported, name="general")
    assert general["id"] == imported.general  # merged into the workspace's own
    assert _channel(imported, name="random")["type"] == "public"
    assert _channel(imported, name="c0nihongo")["type"] == "public"  # 日本語: no Latin letters
    secret = _channel(imported, name="secret")
    assert (secret["type"], secret["topic"]) == ("private", "Shh")
    dm = _channel(imported, type="dm")
    members = _get(imported.admin, f"/channels/{dm['id']}/members")["members"]
    assert sorted(m["id"] for m in members) == sorted([imported.admin.id, imported.bob.id])
    assert _channel(imported, type="group_dm")["memberCount"] == 3


def test_history_pages_newest_first_with_slacks_ts(imported: Imported) -> None:
    pages = []
    cursor: str | None = None
    while True:
        query = "limit=2" + (f"&cursor={quote(cursor)}" if cursor else "")
        page = _get(imported.admin, f"/channels/{imported.general}/messages?{query}")
        pages.append([m["ts"] for m in page["messages"]])
        cursor = page.get("nextCursor")
        if not cursor:
            break
    assert pages == [GENERAL_HISTORY[:2], GENERAL_HISTORY[2:4], GENERAL_HISTORY[4:]]
    assert not set(NOTICES) & {m["ts"] for m in imported.after["history"][imported.general]}
    between = f"oldest={ROOT_TS}&latest={ts_at(DAY1, 4050)}"  # strictly between the two
    page = _get(imported.admin, f"/channels/{imported.general}/messages?{between}")
    assert [m["ts"] for m in page["messages"]] == [ts_at(DAY1, 4000), ts_at(DAY1, 3800)]


def test_a_thread_keeps_its_replies_authors_reactions_and_edit(imported: Imported) -> None:
    admin, bob = imported.admin, imported.bob
    root = _message(imported, imported.general, ROOT_TS)
    assert root["userId"] == admin.id  # matched by email, whatever its case
    assert root["edited"]["ts"] == ts_at(DAY1, 3650)
    assert (root["replyCount"], root["latestReplyTs"]) == (3, ts_at(DAY2, 100))  # not Slack's 7
    replies = root["replies"]
    assert [r["ts"] for r in replies] == THREAD_REPLIES
    assert all(r["threadTs"] == ROOT_TS for r in replies)
    carol = replies[1]["userId"]  # a placeholder: her export has no email
    assert [r["userId"] for r in replies] == [bob.id, carol, bob.id]
    assert carol not in (admin.id, bob.id)
    thumbsup = next(r for r in root["reactions"] if r["name"] == "thumbsup")
    assert (thumbsup["count"], sorted(thumbsup["users"])) == (2, sorted([bob.id, carol]))
    random = _channel(imported, name="random")["id"]
    assert root["text"] == (
        f"Welcome <@{bob.id}> and <@{carol}>! See <#{random}>, <!here>: "
        "<https://example.com|the docs> & 1 < 2"
    )


def test_bots_and_files_keep_their_messages(imported: Imported) -> None:
    people = {imported.admin.id, imported.bob.id}
    legacy = _message(imported, imported.general, ts_at(DAY1, 4000))
    app = _message(imported, imported.general, ts_at(DAY1, 4100))
    assert legacy["userId"] not in people
    assert app["userId"] not in people
    assert legacy["userId"] != app["userId"]  # one bot user per bot id
    assert app["text"] == "Deployed v1.2"
    shared = _message(imported, imported.general, ts_at(DAY1, 4200))
    assert shared["userId"] == imported.admin.id
    assert shared["text"].startswith("The plan")
    assert "plan.pdf" in json.dumps(shared)  # a note of the file: the export has no content


def test_a_private_conversation_and_a_dm_are_their_members(imported: Imported) -> None:
    admin, bob = imported.admin, imported.bob
    assert bob.id in imported.after["members"]  # a Parley user by email, now a member
    secret = _channel(imported, name="secret")["id"]
    (said,) = _get(bob, f"/channels/{secret}/messages")["messages"]
    assert (said["ts"], said["userId"]) == (ts_at(DAY1, 30), bob.id)
    assert said["text"] == f"the secret is <#{imported.general}>"
    dm = _channel(imported, type="dm")["id"]
    wave = next(
        m for m in _get(bob, f"/channels/{dm}/messages")["messages"] if m["ts"] == ts_at(DAY2, 40)
    )
    assert wave["reactions"] == [{"name": "wave", "count": 1, "users": [admin.id]}]
    outsider = User(imported.admin.stack, f"iout{uuid.uuid4().hex[:8]}")
    assert outsider.call("GET", f"/channels/{dm}/messages")[0] == 404


def test_imported_history_is_not_unread_and_notifies_no_one(imported: Imported) -> None:
    bob = imported.bob
    unreads = _get(bob, f"/workspaces/{imported.wid}/unreads")
    assert [c for c in unreads["channels"] if c["unreadCount"] or c["mentionCount"]] == []
    assert _get(bob, "/me/notifications")["notifications"] == []


def test_an_imported_word_is_found_by_search(imported: Imported, search_node: object) -> None:
    search = f"/workspaces/{imported.wid}/search?q={imported.word}"

    def found() -> bool:
        # The stream brings imported messages to the index a moment after the import is
        # done; a fresh index's first moments answer 503 (its shards not yet started).
        status, body = imported.bob.call("GET", search)
        assert status == 200 or (status, body["error"]["code"]) == (503, "unavailable"), body
        return status == 200 and bool(body["total"])

    test_search._eventually(found, "the imported message in search")
    results = _get(imported.bob, search)
    assert results["total"] == 1  # twice imported, once found
    (hit,) = results["results"]
    assert (hit["message"]["ts"], hit["message"]["userId"]) == (WORD_TS, imported.bob.id)
    assert hit["channel"]["name"] == "random"


# ---------------------------------------------------------------- claiming a placeholder


def test_a_person_who_signs_up_later_claims_their_placeholder(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Carol's email in the export is that of someone with no Parley account yet: her
    history is imported under a placeholder, and her sign-up (the local Cognito) makes it
    hers: the channels she was in, her reply, her reaction, the group DM."""
    n = uuid.uuid4().hex[:8]
    admin = User(stack, f"calice{n}")
    status, created = admin.call("POST", "/workspaces", {"name": f"Claimed {n}"})
    assert status == 201, created
    wid = created["workspace"]["id"]
    export = sample_export()
    for user in export.users:
        if user["id"] == ALICE:
            user["profile"]["email"] = f"calice{n}@example.com"
        if user["id"] == CAROL:
            user["profile"]["email"] = f"ccarol{n}@example.com"
    path = tmp_path_factory.mktemp("claim") / "export.zip"
    path.write_bytes(export.build())
    run = _run(["--api-url", stack.http_url, "--token", admin.token, "--workspace", wid,
                "--file", str(path)])  # fmt: skip
    assert run.code == 0, run
    channels = _get(admin, f"/workspaces/{wid}/channels")["channels"]
    general = next(c["id"] for c in channels if c["name"] == "general")
    replies_path = f"/channels/{general}/messages/{ROOT_TS}/replies"
    placeholder = _get(admin, replies_path)["messages"][1]["userId"]

    carol = User(stack, f"ccarol{n}")  # signs up, signs in, first call
    assert carol.id != placeholder
    assert wid in [w["id"] for w in _get(carol, "/workspaces")["workspaces"]]
    names = {c["name"]: c for c in _get(carol, f"/workspaces/{wid}/channels")["channels"]}
    assert {"general", "random"} <= set(names)
    replies = _get(carol, replies_path)["messages"]
    assert replies[1]["userId"] == carol.id
    root = _get(carol, f"/channels/{general}/messages/{ROOT_TS}")["message"]
    thumbsup = next(r for r in root["reactions"] if r["name"] == "thumbsup")
    assert carol.id in thumbsup["users"]
    assert placeholder not in thumbsup["users"]
    assert f"<@{carol.id}>" in root["text"]
    group = [c for c in names.values() if c["type"] == "group_dm"]
    assert len(group) == 1
    members = _get(carol, f"/channels/{group[0]['id']}/members")["members"]
    assert carol.id in [m["id"] for m in members]
