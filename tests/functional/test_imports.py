"""Slack imports end to end, serverless, in process: an export built in Slack's layout
(tests/slack_exports.py) is uploaded to moto's bucket with the route's presigned POST,
started, and the import function is run on what the import queue holds (drained from
moto's SQS, handed over as Lambda hands over an SQS batch) until the queue is empty. What
the import wrote is read back through the HTTP API, as a person reads history.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import requests

from tests.functional.conftest import (
    ALICE,
    BOB,
    CAROL,
    IMPORT_QUEUE_URL,
    TABLE,
    Api,
    Context,
    RecordingPoster,
    load_function,
)
from tests.slack_exports import ALICE as ALICE_SLACK
from tests.slack_exports import BOB as BOB_SLACK
from tests.slack_exports import DAVE as DAVE_SLACK
from tests.slack_exports import (
    DAY1,
    DAY2,
    RANDOM,
    ROOT_TS,
    append_member,
    nul_named,
    sample_export,
    ts_at,
    with_member,
    zip_bomb,
)

THREAD_REPLIES = [ts_at(DAY1, 3700), ts_at(DAY1, 3800), ts_at(DAY2, 100)]
# general's top-level messages, newest first: the file share, the app's and the legacy bot's
# posts, the reply also sent to the channel (thread_broadcast, as Parley and Slack show it)
# and the thread's root. The join, the leave and the topic change are no messages.
GENERAL_HISTORY = [
    ts_at(DAY1, 4200),
    ts_at(DAY1, 4100),
    ts_at(DAY1, 4000),
    ts_at(DAY1, 3800),
    ROOT_TS,
]
MAX_IMPORT_BYTES = 20 * 1024 * 1024  # the functional environment's MAX_IMPORT_BYTES


# ------------------------------------------------------------------ helpers


def create(api: Api, wid: str, data: bytes, user: str = ALICE) -> tuple[int, Any]:
    return api(
        "POST", f"/workspaces/{wid}/imports", user=user, body={"name": "x.zip", "size": len(data)}
    )


def upload(created: dict[str, Any], data: bytes) -> None:
    """What the import command does with the form: its fields, then the zip."""
    form = created["upload"]
    reply = requests.post(
        form["url"], data=form["fields"], files={"file": ("export.zip", data)}, timeout=10
    )
    assert reply.status_code == 204, reply.text


def _records(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:parley-unit-imports",
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


class Worker:
    """The import function on the import queue, as Lambda's SQS poller runs it: batches of
    up to 10, the reported failures left on the queue, the rest deleted."""

    def __init__(self) -> None:
        self.sqs = boto3.client("sqs")
        self.handler = load_function("import_worker").lambda_handler
        self.bodies: list[str] = []  # every message it was handed
        self.failures = 0

    def purge(self) -> None:
        while self.receive():
            pass

    def receive(self, visibility: int = 30) -> list[dict[str, Any]]:
        got = self.sqs.receive_message(
            QueueUrl=IMPORT_QUEUE_URL, MaxNumberOfMessages=10, VisibilityTimeout=visibility
        ).get("Messages", [])
        for message in got:
            self.sqs.delete_message(
                QueueUrl=IMPORT_QUEUE_URL, ReceiptHandle=message["ReceiptHandle"]
            )
        return got  # type: ignore[no-any-return]  # boto3's replies are untyped here

    def run(self, bodies: list[str], context: Context | None = None) -> list[str]:
        """One invocation on these bodies; the bodies it reported failed."""
        messages = [
            {"MessageId": f"m{n}", "ReceiptHandle": f"r{n}", "Body": b, "MD5OfBody": ""}
            for n, b in enumerate(bodies)
        ]
        self.bodies.extend(bodies)
        reply = self.handler(_records(messages), context or Context())
        failed = {f["itemIdentifier"] for f in reply["batchItemFailures"]}
        self.failures += len(failed)
        return [m["Body"] for m in messages if m["MessageId"] in failed]

    def drain(self, rounds: int = 100) -> None:
        """Until the queue is empty; a failed message is handed over again (as its
        visibility timeout would), at most `rounds` times in all."""
        retry: list[str] = []
        for _ in range(rounds):
            bodies = retry or [m["Body"] for m in self.receive()]
            if not bodies:
                return
            retry = self.run(bodies)
        raise AssertionError("the import queue never emptied")


@pytest.fixture
def worker(api: Api) -> Worker:
    found = Worker()
    found.purge()  # what other tests left (a started import's plan)
    return found


def import_export(
    api: Api, worker: Worker, wid: str, data: bytes, user: str = ALICE
) -> dict[str, Any]:
    """Create, upload, start, run the queue dry: the import's status."""
    status, created = create(api, wid, data, user)
    assert status == 201, created
    upload(created, data)
    import_id = created["import"]["id"]
    status, started = api("POST", f"/imports/{import_id}/start", user=user)
    assert status == 202, started
    assert started["import"]["status"] == "running"
    worker.drain()
    status, found = api("GET", f"/imports/{import_id}", user=user)
    assert status == 200, found
    return found["import"]  # type: ignore[no-any-return]  # a value read from JSON


def planned_chunks(api: Api, worker: Worker, wid: str, data: bytes) -> list[str]:
    """Create, upload, start, run the plan alone: the chunks it queued, not yet run (for
    tests that run them in an order of their own, or do something in between)."""
    status, created = create(api, wid, data)
    assert status == 201, created
    upload(created, data)
    api("POST", f"/imports/{created['import']['id']}/start")
    worker.run([m["Body"] for m in worker.receive()])  # the plan
    chunks: list[str] = []
    while got := worker.receive():
        chunks.extend(m["Body"] for m in got)
    return chunks


def table_items(*, imports: bool = True) -> list[dict[str, Any]]:
    """Every item of the table, in key order (the import's own items left out if asked)."""
    table = boto3.resource("dynamodb").Table(TABLE)
    items: list[dict[str, Any]] = []
    scan: dict[str, Any] = {}
    while True:
        page = table.scan(**scan)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    kept = [i for i in items if imports or not str(i["PK"]).startswith("IMPORT#")]
    return sorted(kept, key=lambda i: (i["PK"], i["SK"]))


def get(api: Api, path: str, user: str = ALICE, **query: str) -> Any:
    status, body = api("GET", path, user=user, query=query or None)
    assert status == 200, (path, body)
    return body


def channels_by_name(api: Api, wid: str, user: str = ALICE) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in get(api, f"/workspaces/{wid}/channels", user)["channels"]}


def history(api: Api, cid: str, user: str = ALICE) -> list[dict[str, Any]]:
    return get(api, f"/channels/{cid}/messages", user, limit="200")["messages"]  # type: ignore[no-any-return]  # a value read from JSON


@functools.cache
def sample_zip() -> bytes:
    return sample_export().build()


# ------------------------------------------------------------------ what an import writes


@pytest.fixture
def imported(
    api: Api, worker: Worker, workspace: dict[str, str]
) -> tuple[dict[str, str], dict[str, Any]]:
    return workspace, import_export(api, worker, workspace["wid"], sample_zip())


def test_the_import_is_done_with_its_counts(
    imported: tuple[dict[str, str], dict[str, Any]],
) -> None:
    _, status = imported
    assert status["status"] == "done"
    assert status["counts"] == {
        # Alice (two Slack accounts of her email), Bob, Carol and Dave as placeholders (no
        # email; deactivated), the app's bot, Slackbot
        "users": 6,
        "channels": 6,  # general, random, 日本語, secret, the DM, the group DM
        "messages": 10,
        "replies": 3,
        "reactions": 4,  # 2 thumbsup, a skin tone, a wave
        "files": 1,  # the deleted file is no file
        "invalid": 0,
    }
    assert status["chunks"] == {"total": 8, "done": 8}
    assert (status["errors"], status["reason"]) == ([], None)


def test_each_conversation_is_a_channel_of_its_kind_with_its_members(
    api: Api, imported: tuple[dict[str, str], dict[str, Any]]
) -> None:
    workspace, _ = imported
    found = channels_by_name(api, workspace["wid"])
    assert found["general"]["id"] == workspace["general"]  # merged into the workspace's own
    assert found["random"]["type"] == "public"
    assert found["c0nihongo"]["type"] == "public"  # 日本語: no Latin letter, the Slack id's
    assert (found["secret"]["type"], found["secret"]["topic"]) == ("private", "Shh")
    dm = next(c for c in found.values() if c["type"] == "dm")
    members = get(api, f"/channels/{dm['id']}/members")["members"]
    assert sorted(m["id"] for m in members) == [ALICE, BOB]
    group = next(c for c in found.values() if c["type"] == "group_dm")
    assert group["memberCount"] == 3
    # Bob, a workspace member by email, is in what Slack had him in; Carol (no email in
    # the export) is a placeholder, not the Parley user of that name.
    assert set(channels_by_name(api, workspace["wid"], BOB)) >= {"secret", "random"}
    status, _ = api("GET", f"/channels/{found['secret']['id']}/messages", user=CAROL)
    assert status == 404


def test_history_keeps_slacks_ts_order_authors_and_text(
    api: Api, imported: tuple[dict[str, str], dict[str, Any]]
) -> None:
    workspace, _ = imported
    general = history(api, workspace["general"])
    assert [m["ts"] for m in general] == GENERAL_HISTORY
    by_ts = {m["ts"]: m for m in general}
    root = by_ts[ROOT_TS]
    assert root["userId"] == ALICE  # matched by email, whatever its case
    assert root["edited"] == {"ts": ts_at(DAY1, 3650)}
    random = channels_by_name(api, workspace["wid"])["random"]["id"]
    carol = by_ts[ts_at(DAY1, 3800)]["userId"]  # a placeholder: her export has no email
    assert carol not in (ALICE, BOB, CAROL)
    assert root["text"] == (
        f"Welcome <@{BOB}> and <@{carol}>! See <#{random}>, <!here>: "
        "<https://example.com|the docs> & 1 < 2"
    )
    legacy, app = by_ts[ts_at(DAY1, 4000)], by_ts[ts_at(DAY1, 4100)]
    assert (legacy["text"], legacy["subtype"]) == ("Build 42 passed", "bot_message")
    assert app["text"] == "Deployed v1.2"
    assert len({legacy["userId"], app["userId"], ALICE, BOB}) == 4  # one bot per bot id
    members = get(api, f"/workspaces/{workspace['wid']}/members")["members"]
    bots = {m["user"]["id"] for m in members if m["isBot"]}
    assert {legacy["userId"], app["userId"]} <= bots
    shared = by_ts[ts_at(DAY1, 4200)]
    assert shared["text"] == "The plan\n📎 plan.pdf (pdf, 120.6 KB)"
    assert shared["userId"] == ALICE


def test_a_thread_keeps_its_replies_counts_and_reactions(
    api: Api, imported: tuple[dict[str, str], dict[str, Any]]
) -> None:
    workspace, _ = imported
    root = get(api, f"/channels/{workspace['general']}/messages/{ROOT_TS}")["message"]
    # Slack's reply_count (7) is not trusted: the replies written are counted, over two days
    assert (root["replyCount"], root["latestReplyTs"]) == (3, ts_at(DAY2, 100))
    assert root["threadTs"] == ROOT_TS
    replies = get(api, f"/channels/{workspace['general']}/messages/{ROOT_TS}/replies")["messages"]
    assert [r["ts"] for r in replies] == THREAD_REPLIES
    assert all(r["threadTs"] == ROOT_TS for r in replies)
    carol = replies[1]["userId"]
    assert [r["userId"] for r in replies] == [BOB, carol, BOB]
    assert replies[0]["text"] == "Thanks! héllo 👋 日本"
    reactions = {r["name"]: r for r in root["reactions"]}
    assert sorted(reactions["thumbsup"]["users"]) == sorted([BOB, carol])
    assert reactions["+1::skin-tone-2"]["users"] == [BOB]


def test_private_conversations_and_dms_are_their_members_only(
    api: Api, imported: tuple[dict[str, str], dict[str, Any]]
) -> None:
    workspace, _ = imported
    found = channels_by_name(api, workspace["wid"], BOB)
    (said,) = history(api, found["secret"]["id"], BOB)
    assert (said["ts"], said["userId"]) == (ts_at(DAY1, 30), BOB)
    assert said["text"] == f"the secret is <#{workspace['general']}>"
    dm = next(c for c in found.values() if c["type"] == "dm")
    wave = history(api, dm["id"], BOB)[0]
    assert wave["reactions"] == [{"name": "wave", "count": 1, "users": [ALICE]}]
    assert api("GET", f"/channels/{dm['id']}/messages", user=CAROL)[0] == 404


def test_dms_with_a_deactivated_person_stay_apart(
    api: Api, worker: Worker, workspace: dict[str, str]
) -> None:
    """Dave left: Alice's DM with him and Bob's are two DMs (each of its two people), not
    one DM of one person each."""
    export = sample_export()
    export.dm("D0ALIDAVE", [ALICE_SLACK, DAVE_SLACK])
    export.dm("D0BOBDAVE", [BOB_SLACK, DAVE_SLACK])
    export.post("D0ALIDAVE", ts_at(DAY1, 70), user=ALICE_SLACK, text="bye dave")
    export.post("D0BOBDAVE", ts_at(DAY1, 80), user=BOB_SLACK, text="see you dave")
    assert import_export(api, worker, workspace["wid"], export.build())["status"] == "done"
    dms = {}  # the text of each DM's one message -> (the DM, its members)
    for user in (ALICE, BOB):
        for channel in channels_by_name(api, workspace["wid"], user).values():
            if channel["type"] == "dm":
                members = get(api, f"/channels/{channel['id']}/members", user)["members"]
                for message in history(api, channel["id"], user):
                    dms[message["text"]] = (channel["id"], {m["id"] for m in members})
    (alices, with_alice), (bobs, with_bob) = dms["bye dave"], dms["see you dave"]
    assert alices != bobs
    (dave,) = with_alice - {ALICE}
    assert (with_alice, with_bob) == ({ALICE, dave}, {BOB, dave})
    members = get(api, f"/workspaces/{workspace['wid']}/members")["members"]
    assert dave not in {m["user"]["id"] for m in members}  # deactivated: not in the workspace


def test_imported_history_is_not_unread_and_fans_out_to_no_one(
    api: Api,
    worker: Worker,
    workspace: dict[str, str],
    connect: Callable[[str, str, str], None],
    poster: RecordingPoster,
) -> None:
    wid = workspace["wid"]
    # Alice's marker in general, moved back before the export's days: the merged channel's
    # members read up to the end of the last imported day.
    assert (
        api("POST", f"/channels/{workspace['general']}/read", body={"ts": ts_at("2024-01-01")})[0]
        == 204
    )
    connect("alice-1", ALICE, wid)
    connect("bob-1", BOB, wid)
    poster.frames.clear()
    assert import_export(api, worker, wid, sample_zip())["status"] == "done"
    for user in (ALICE, BOB):
        unreads = get(api, f"/workspaces/{wid}/unreads", user)
        counted = [c for c in unreads["channels"] if c["unreadCount"] or c["mentionCount"]]
        assert (counted, unreads["threads"]) == ([], [])
    assert dict(poster.frames) == {}
    general = next(
        c
        for c in get(api, f"/workspaces/{wid}/unreads")["channels"]
        if c["channelId"] == workspace["general"]
    )
    assert general["lastReadTs"] == ts_at(DAY2, 86_399, 999_999)
    assert get(api, "/me/notifications", BOB)["notifications"] == []


def test_imported_messages_are_marked_for_the_stream_consumers(
    imported: tuple[dict[str, str], dict[str, Any]],
) -> None:
    """The notifier's filter and the apps' events leave out what carries `imported`."""
    from local.event_filter import passes
    from parley.apps.changes import channel_events
    from tests.functional.conftest import template

    messages = [i for i in table_items() if str(i["SK"]).startswith("MSG#")]
    assert messages
    assert all(m.get("imported") is True for m in messages)
    serializer = boto3.dynamodb.types.TypeSerializer()
    message = messages[0]
    record = {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"PK": {"S": message["PK"]}, "SK": {"S": message["SK"]}},
            "NewImage": {k: serializer.serialize(v) for k, v in message.items()},
        },
    }
    notifier = template()["Resources"]["NotifierFunction"]["Properties"]["Events"]
    (stream,) = notifier.values()
    patterns = [json.loads(f["Pattern"]) for f in stream["Properties"]["FilterCriteria"]["Filters"]]
    assert not passes(patterns, record)
    posted = {k: v for k, v in record["dynamodb"]["NewImage"].items() if k != "imported"}
    assert passes(patterns, {**record, "dynamodb": {**record["dynamodb"], "NewImage": posted}})
    assert channel_events("INSERT", dict(message), None) == []
    assert [e.kind for e in channel_events("INSERT", {**message, "imported": None}, None)]


# ------------------------------------------------------------------ idempotent


def test_the_same_export_imported_again_writes_nothing_new(
    api: Api, worker: Worker, imported: tuple[dict[str, str], dict[str, Any]]
) -> None:
    workspace, first = imported
    before = table_items(imports=False)
    second = import_export(api, worker, workspace["wid"], sample_zip())
    assert second["id"] != first["id"]
    assert (second["status"], second["counts"]) == ("done", first["counts"])
    assert table_items(imports=False) == before


def test_a_redelivered_chunk_or_plan_changes_nothing(
    api: Api, worker: Worker, imported: tuple[dict[str, str], dict[str, Any]]
) -> None:
    before = table_items()
    kinds = {json.loads(b)["kind"] for b in worker.bodies}
    assert kinds == {"plan", "chunk"}
    assert worker.run(list(worker.bodies)) == []
    assert table_items() == before


def test_a_chunk_that_fails_after_writing_is_retried_and_counted_once(
    api: Api, worker: Worker, workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.adapters.dynamodb import imports as import_adapter

    real = import_adapter.complete_chunk
    failing = {"left": 3}

    def flaky(*args: Any, **kwargs: Any) -> bool:
        if failing["left"]:
            failing["left"] -= 1
            raise RuntimeError("the table is throttling")
        return real(*args, **kwargs)

    monkeypatch.setattr(import_adapter, "complete_chunk", flaky)
    status = import_export(api, worker, workspace["wid"], sample_zip())
    assert worker.failures == 3
    assert status["status"] == "done"
    assert (status["counts"]["messages"], status["counts"]["replies"]) == (10, 3)
    assert status["chunks"] == {"total": 8, "done": 8}
    root = get(api, f"/channels/{workspace['general']}/messages/{ROOT_TS}")["message"]
    assert root["replyCount"] == 3


def test_a_delivery_that_stops_after_counting_the_last_chunk_is_finished_on_redelivery(
    api: Api, worker: Worker, workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last chunk counted, then the table fails before the import is set done: the
    redelivered chunk finds itself counted and sets it done (else: running for ever)."""
    from parley.adapters.dynamodb import imports as import_adapter

    real = import_adapter.finish_if_complete
    failed: list[str] = []

    def flaky(import_id: str) -> bool:
        record = import_adapter.get_import(import_id, consistent=True)
        if not failed and record is not None and record.chunksDone == record.chunks:
            failed.append(import_id)
            raise RuntimeError("the table is throttling")
        return real(import_id)

    monkeypatch.setattr(import_adapter, "finish_if_complete", flaky)
    status = import_export(api, worker, workspace["wid"], sample_zip())
    assert failed
    assert worker.failures == 1
    assert status["status"] == "done"
    assert status["chunks"] == {"total": 8, "done": 8}


def test_a_thread_whose_reply_day_runs_first_is_counted(
    api: Api, worker: Worker, workspace: dict[str, str]
) -> None:
    """The chunks of a thread may run in any order: the root's day last here."""
    chunks = planned_chunks(api, worker, workspace["wid"], sample_zip())
    chunks.sort(key=lambda b: json.loads(b)["chunk"]["date"], reverse=True)
    assert worker.run(chunks) == []
    root = get(api, f"/channels/{workspace['general']}/messages/{ROOT_TS}")["message"]
    assert (root["replyCount"], root["latestReplyTs"]) == (3, ts_at(DAY2, 100))


@pytest.mark.parametrize("root_day_last", [False, True])
def test_a_thread_within_its_day_is_counted_from_slacks_counts_without_a_query(
    api: Api, worker: Worker, workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch,
    root_day_last: bool,
) -> None:  # fmt: skip
    """A thread whose root's reply_count and latest_reply match its replies in the same day
    file is counted from them; one with a reply in another day file (its count right, but
    not all of it here) is counted from the thread index, in either order of the chunks."""
    from parley.adapters.dynamodb import imports as adapter

    queried: list[str] = []
    recount = adapter.recount_thread
    monkeypatch.setattr(
        adapter, "recount_thread", lambda c, t, w: queried.append(t) or recount(c, t, w)
    )
    export = sample_export()
    whole, spread = ts_at(DAY1, 5000), ts_at(DAY1, 6000)
    whole_replies = [ts_at(DAY1, 5001), ts_at(DAY1, 5002)]
    spread_replies = [ts_at(DAY1, 6001), ts_at(DAY2, 300)]
    for root, replies in ((whole, whole_replies), (spread, spread_replies)):
        export.post(
            RANDOM, root, user=BOB_SLACK, text="a thread", thread_ts=root,
            reply_count=2, latest_reply=replies[-1],
            replies=[{"user": ALICE_SLACK, "ts": ts} for ts in replies],
        )  # fmt: skip
        for ts in replies:
            export.post(RANDOM, ts, user=ALICE_SLACK, text="a reply", thread_ts=root)
    chunks = planned_chunks(api, worker, workspace["wid"], export.build())
    chunks.sort(key=lambda b: json.loads(b)["chunk"]["date"], reverse=root_day_last)
    assert worker.run(chunks) == []
    random = channels_by_name(api, workspace["wid"])["random"]["id"]
    for root, replies in ((whole, whole_replies), (spread, spread_replies)):
        found = get(api, f"/channels/{random}/messages/{root}")["message"]
        assert (found["replyCount"], found["latestReplyTs"]) == (2, replies[-1])
    assert whole not in queried
    assert spread in queried


def test_a_batch_short_of_time_hands_the_rest_back_to_the_queue(
    api: Api, worker: Worker, workspace: dict[str, str]
) -> None:
    class Hurried(Context):
        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 1_000

    _, created = create(api, workspace["wid"], sample_zip())
    upload(created, sample_zip())
    api("POST", f"/imports/{created['import']['id']}/start")
    worker.run([m["Body"] for m in worker.receive()])
    chunks = []
    while got := worker.receive():
        chunks.extend(m["Body"] for m in got)
    assert len(chunks) == 8
    assert worker.run(chunks, Hurried()) == []  # one done, seven handed back: none failed
    handed_back = []
    while got := worker.receive():
        handed_back.extend(m["Body"] for m in got)
    assert sorted(handed_back) == sorted(chunks[1:])
    assert worker.run(handed_back) == []
    assert get(api, f"/imports/{created['import']['id']}")["import"]["status"] == "done"


# ------------------------------------------------------------------ errors


def test_a_message_that_cannot_be_imported_is_counted_and_named(
    api: Api, worker: Worker, workspace: dict[str, str]
) -> None:
    export = sample_export()
    export.post(RANDOM, ts_at(DAY2, 7), user="U0BOB0002", text="kept")
    export.days[("random", DAY2)].append({"type": "message", "user": "U0BOB0002", "text": "x"})
    status = import_export(api, worker, workspace["wid"], export.build())
    assert status["status"] == "done"
    assert status["counts"]["invalid"] == 1
    assert status["counts"]["messages"] == 11
    (error,) = status["errors"]
    assert error.startswith(f"{RANDOM}/{DAY2}: ")
    assert "no ts" in error


def _big_users() -> bytes:
    export = sample_export()
    export.users[0]["profile"]["title"] = "x" * 300_000
    return export.build()


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "a zip bomb": (lambda: zip_bomb(8 * 1024 * 1024), "zip bomb"),
    "a name with ..": (lambda: with_member("general/../../evil.json", b"[]"), "'..'"),
    "an absolute name": (lambda: with_member("/etc/evil.json", b"[]"), "absolute path"),
    "a NUL in a name": (nul_named, "NUL"),
    "no users.json": (lambda: sample_export().build(users_file=None), "no users.json"),
    "bad UTF-8 in a day file": (
        lambda: with_member(f"general/{DAY2[:-2]}09.json", b'[{"ts": "1", "text": "\xff"}]'),
        "not valid UTF-8",
    ),
    "bzip2": (
        lambda: append_member(sample_zip(), "extra.json", b"[]", compress_type=12),
        "compression method 12",
    ),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_export_ends_failed_with_its_reason(
    api: Api, worker: Worker, workspace: dict[str, str], kind: str
) -> None:
    make, why = HOSTILE[kind]
    status = import_export(api, worker, workspace["wid"], make())
    assert status["status"] == "failed", status
    assert why in status["reason"], status["reason"]
    assert status["errors"][-1] == status["reason"]
    assert worker.failures == 0  # refused, not retried


def test_a_json_file_over_its_cap_fails_the_import(
    api: Api, worker: Worker, workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.imports import archive

    small = functools.partial(archive.Limits, max_metadata_json=64 * 1024)
    monkeypatch.setattr(archive, "Limits", small)
    status = import_export(api, worker, workspace["wid"], _big_users())
    assert status["status"] == "failed"
    assert "users.json" in status["reason"]
    assert "at most 65,536" in status["reason"]


def test_after_a_failed_import_a_good_one_completes_it(
    api: Api, worker: Worker, workspace: dict[str, str]
) -> None:
    bad = with_member(f"general/{DAY2[:-2]}09.json", b'[{"ts": "1", "text": "\xff"}]')
    assert import_export(api, worker, workspace["wid"], bad)["status"] == "failed"
    good = import_export(api, worker, workspace["wid"], sample_zip())
    assert good["status"] == "done"
    assert [m["ts"] for m in history(api, workspace["general"])] == GENERAL_HISTORY


def test_an_upload_that_is_not_a_zip_is_refused_at_start(
    api: Api, worker: Worker, workspace: dict[str, str]
) -> None:
    status, created = create(api, workspace["wid"], b"PK not really a zip")
    upload(created, b"PK not really a zip")
    status, reply = api("POST", f"/imports/{created['import']['id']}/start")
    assert status == 400
    assert reply["error"]["code"] == "invalid_request"
    assert "not a readable zip" in reply["error"]["message"]
    assert worker.receive() == []


def test_start_before_the_upload_is_a_400_and_a_second_start_returns_the_import(
    api: Api, worker: Worker, workspace: dict[str, str]
) -> None:
    status, created = create(api, workspace["wid"], sample_zip())
    import_id = created["import"]["id"]
    status, reply = api("POST", f"/imports/{import_id}/start")
    assert status == 400
    assert set(reply["error"]) == {"code", "message"}
    assert "nothing has been uploaded" in reply["error"]["message"]
    assert get(api, f"/imports/{import_id}")["import"]["status"] == "pending"
    upload(created, sample_zip())
    first = api("POST", f"/imports/{import_id}/start")
    again = api("POST", f"/imports/{import_id}/start")
    assert (first[0], again[0]) == (202, 202)
    assert again[1]["import"]["status"] == "running"
    assert [json.loads(m["Body"])["kind"] for m in worker.receive()] == ["plan"]  # one plan


def test_an_export_over_the_limit_is_refused_before_anything_is_written(
    api: Api, workspace: dict[str, str]
) -> None:
    before = table_items()
    body = {"name": "everything.zip", "size": MAX_IMPORT_BYTES + 1}
    status, reply = api("POST", f"/workspaces/{workspace['wid']}/imports", body=body)
    assert (status, reply["error"]["code"]) == (413, "too_large")
    assert table_items() == before
    status, _ = api("POST", f"/workspaces/{workspace['wid']}/imports", body={"name": "x"})
    assert status == 422


def test_the_upload_form_pins_the_imports_key_and_the_size_limit(
    api: Api, workspace: dict[str, str]
) -> None:
    status, created = create(api, workspace["wid"], sample_zip())
    assert status == 201
    assert created["import"]["status"] == "pending"
    import_id = created["import"]["id"]
    fields = created["upload"]["fields"]
    assert fields["key"] == f"imports/{import_id}/export.zip"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1, MAX_IMPORT_BYTES] in policy["conditions"]
    assert {"key": fields["key"]} in policy["conditions"]


# ------------------------------------------------------------------ who may


def test_only_the_workspaces_admins_import(
    api: Api, worker: Worker, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    assert create(api, wid, sample_zip(), user=BOB)[0] == 403  # a member
    assert create(api, wid, sample_zip(), user=CAROL)[0] == 404  # an outsider
    _, created = create(api, wid, sample_zip())
    import_id = created["import"]["id"]
    for user in (BOB, CAROL):
        assert api("GET", f"/imports/{import_id}", user=user)[0] == 404
        assert api("POST", f"/imports/{import_id}/start", user=user)[0] == 404
    assert api("GET", "/imports/I-unknown")[0] == 404
    assert get(api, f"/imports/{import_id}")["import"]["id"] == import_id


def test_malformed_queue_messages_are_dropped_not_retried(worker: Worker) -> None:
    assert worker.run(["not json", json.dumps({"kind": "tea"}), json.dumps({"kind": "plan"})]) == []
    assert worker.run([json.dumps({"kind": "plan", "importId": "I-unknown"})]) == []
