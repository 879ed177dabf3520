"""Every sample event in events/ drives its handler, against data seeded with the events' ids.

These are the events a SAM user passes to `sam local invoke -e`; each must do what its name
says, and none may end in a 5xx or a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.functional.conftest import EVENTS, Context, RecordingPoster, load_function, sample_event

ALICE, BOB = "u-alice-0000", "u-bob-0000"
WORKSPACE, CHANNEL, TS, INVITE = "W0000000001", "C0000000001", "1732698061.000100", "INV0000000001"
# Alice's upload, waiting for completion (its object is in the bucket), and Bob's file, ready
# and shared in #general by the seeded message.
PENDING_FILE, SHARED_FILE = "F0000000001", "F0000000002"
APP, BOT, BOT_TOKEN = "A0000000001", "B0000000001", "pxb-sample-bot-token-not-a-secret-000000000"
HOOK, HOOK_TOKEN = "H0000000001", "pxh-sample-hook-token-not-a-secret-0000000000"
IMPORT = "I0000000001"  # Alice's Slack import, uploaded (SAMPLE_EXPORT) and not started
RESPONSE_TOKEN = "pxr-sample-response-token-not-a-secret-000000"  # a sample

# Events named for a refusal or bad input; every other one must succeed.
REFUSALS = {
    "invalid-name",
    "empty-text",
    "unknown-channel",
    "unmatched-route",
    "too-large",
    "bad-token",
    "malformed",
}


@pytest.fixture
def seeded(poster: RecordingPoster) -> RecordingPoster:
    """The ids of events/README.md, as rows: Alice's workspace with Bob, #general, a message."""
    from datetime import UTC, datetime, timedelta

    from parley.adapters.dynamodb import channels, users, workspaces
    from parley.adapters.dynamodb.items import MessageItem
    from parley.domain.records import (
        ChannelRecord,
        InviteRecord,
        WorkspaceMemberRecord,
        WorkspaceRecord,
    )
    from parley.wiring import configured

    configured()
    now = "2024-11-27T09:00:00.000Z"
    users.create_user_if_absent(ALICE, "Alice Example", "alice@example.com", now)
    users.create_user_if_absent(BOB, "Bob Example", "bob@example.com", now)
    general = ChannelRecord(
        channelId=CHANNEL,
        workspaceId=WORKSPACE,
        name="general",
        type="public",
        createdBy=ALICE,
        createdAt=now,
        memberCount=1,
    )
    workspaces.create_workspace(
        WorkspaceRecord(
            workspaceId=WORKSPACE,
            name="Acme",
            createdBy=ALICE,
            createdAt=now,
            generalChannelId=CHANNEL,
        ),
        WorkspaceMemberRecord(workspaceId=WORKSPACE, userId=ALICE, role="admin", joinedAt=now),
        general,
    )
    workspaces.add_member(
        WorkspaceMemberRecord(workspaceId=WORKSPACE, userId=BOB, role="member", joinedAt=now)
    )
    channels.add_channel_members(general, [BOB], now)
    MessageItem(
        f"CH#{CHANNEL}",
        f"MSG#{TS}",
        channelId=CHANNEL,
        workspaceId=WORKSPACE,
        ts=TS,
        userId=ALICE,
        text="hello",
        createdAt=now,
    ).save()
    _seed_files(now)
    _seed_app(now)
    _seed_import(now)
    _seed_schedules(now)
    expires = datetime.now(UTC) + timedelta(days=1)
    workspaces.put_invite(
        InviteRecord(
            code=INVITE,
            workspaceId=WORKSPACE,
            createdBy=ALICE,
            createdAt=now,
            expiresAt=expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
        )
    )
    return poster


def _seed_schedules(now: str) -> None:
    """Alice's pending scheduled message (Q0123456789, in #general) and reminder
    (Rm0123456789, about the message), which scheduled_poster's events fire."""
    from parley.adapters.dynamodb import scheduling
    from parley.domain.records import ReminderRecord, ScheduledMessageRecord

    scheduling.put_scheduled(
        ScheduledMessageRecord(
            scheduledId="Q0123456789",
            userId=ALICE,
            workspaceId=WORKSPACE,
            channelId=CHANNEL,
            text="stand-up",
            postAt=now,
            createdAt=now,
        )
    )
    scheduling.put_reminder(
        ReminderRecord(
            reminderId="Rm0123456789",
            userId=ALICE,
            text="reply to this",
            at=now,
            createdAt=now,
            workspaceId=WORKSPACE,
            channelId=CHANNEL,
            ts=TS,
        )
    )


def _seed_files(now: str) -> None:
    import boto3

    from parley.adapters.dynamodb import files
    from parley.adapters.dynamodb.items import MessageItem
    from parley.adapters.dynamodb.records import file_map
    from parley.domain.records import FileRecord
    from parley.domain.views import shared_file
    from tests.functional.conftest import BUCKET

    for file_id, owner in ((PENDING_FILE, ALICE), (SHARED_FILE, BOB)):
        key = f"{WORKSPACE}/{file_id}/deck.pdf"
        file = FileRecord(
            fileId=file_id,
            workspaceId=WORKSPACE,
            name="deck.pdf",
            size=4,
            contentType="application/pdf",
            status="pending",
            uploadedBy=owner,
            createdAt=now,
            objectKey=key,
            uploadExpiresAt=int(time.time()) + 300,
        )
        files.create_file(file, int(time.time()) + 86_400)
        boto3.client("s3").put_object(
            Bucket=BUCKET, Key=key, Body=b"%PDF", ContentType="application/pdf"
        )
        if file_id == SHARED_FILE:
            files.mark_ready(file)
    shared = files.find_file(SHARED_FILE)
    assert shared is not None
    message = MessageItem.get(f"CH#{CHANNEL}", f"MSG#{TS}")
    message.update(
        actions=[
            MessageItem.fileIds.set([SHARED_FILE]),
            MessageItem.files.set([file_map(shared_file(shared))]),
        ]
    )
    files.new_share(SHARED_FILE, CHANNEL, TS).save()


def _seed_app(now: str) -> None:
    """The events' app (events/README.md): a bot in #general holding the sample token, and
    a webhook into #general."""
    from parley.adapters.dynamodb import apps, channels, webhooks
    from parley.adapters.dynamodb import commands as command_store
    from parley.apps.credentials import token_hash
    from parley.domain.records import (
        AppRecord,
        CommandResponseRecord,
        UserRecord,
        WebhookRecord,
        WorkspaceMemberRecord,
    )

    app = AppRecord(
        appId=APP,
        workspaceId=WORKSPACE,
        name="Echo",
        scopes=("channels:history", "channels:read", "chat:write", "reactions:write"),
        botUserId=BOT,
        eventsUrl="https://echo.example.com/parley/events",
        events=("member_joined_channel", "message"),
        signingSecret="0" * 64,
        tokenHash=token_hash(BOT_TOKEN),
        createdBy=ALICE,
        createdAt=now,
    )
    apps.create_app(
        app,
        UserRecord(userId=BOT, name="Echo", email="", createdAt=now),
        WorkspaceMemberRecord(
            workspaceId=WORKSPACE, userId=BOT, role="member", joinedAt=now, isBot=True
        ),
    )
    general = channels.get_channel(CHANNEL)
    assert general is not None
    channels.add_channel_members(general, [BOT], now)
    webhooks.create_webhook(
        WebhookRecord(
            hookId=HOOK,
            appId=APP,
            workspaceId=WORKSPACE,
            channelId=CHANNEL,
            botUserId=BOT,
            tokenHash=token_hash(HOOK_TOKEN),
            createdBy=ALICE,
            createdAt=now,
        )
    )
    command_store.create_response(
        CommandResponseRecord(
            tokenHash=token_hash(RESPONSE_TOKEN),
            appId=APP,
            workspaceId=WORKSPACE,
            channelId=CHANNEL,
            userId=ALICE,
            botUserId=BOT,
            command="/echo",
            expires=int(time.time()) + 1800,
        )
    )


def sample_export_zip() -> bytes:
    """The sample import's zip, byte for byte the same on every run (stored members, a
    fixed time), so that events/import_worker-chunk.json can name its day file's place:
    two users, #general, and a day of it with a thread."""
    import io
    import zipfile

    users = [
        {"id": "U0ALICE01", "name": "alice", "profile": {"email": "alice@example.com"}},
        {"id": "U0BOB0002", "name": "bob", "profile": {"email": "bob@example.com"}},
    ]
    channels = [{"id": "C0GENERAL", "name": "general", "members": ["U0ALICE01", "U0BOB0002"]}]
    root = "1732611661.000100"
    day = [
        {
            "type": "message",
            "ts": root,
            "user": "U0ALICE01",
            "text": "Welcome to the import",
            "thread_ts": root,
            "reactions": [{"name": "wave", "users": ["U0BOB0002"], "count": 1}],
        },
        {
            "type": "message",
            "ts": "1732611700.000200",
            "user": "U0BOB0002",
            "text": "Thanks <@U0ALICE01>",
            "thread_ts": root,
        },
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zipped:
        for name, value in (
            ("users.json", users),
            ("channels.json", channels),
            ("general/2024-11-26.json", day),
        ):
            zipped.writestr(zipfile.ZipInfo(name, (2024, 11, 27, 9, 0, 0)), json.dumps(value))
    return buffer.getvalue()


def _seed_import(now: str) -> None:
    """Alice's import of SAMPLE_EXPORT into the workspace, uploaded, not started."""
    import boto3

    from parley.adapters.dynamodb import imports
    from parley.domain.imports import object_key
    from parley.domain.records import ImportRecord
    from tests.functional.conftest import BUCKET

    data = sample_export_zip()
    record = ImportRecord(
        importId=IMPORT,
        workspaceId=WORKSPACE,
        name="Acme Slack export Nov 26 2024.zip",
        size=len(data),
        createdBy=ALICE,
        createdAt=now,
        objectKey=object_key(IMPORT),
        uploadExpiresAt=int(time.time()) + 3600,
    )
    imports.create_import(record)
    boto3.client("s3").put_object(Bucket=BUCKET, Key=record.objectKey, Body=data)


class FakeQueue:
    """A queue (the index queue, the app events queue), in memory."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, bodies: list[tuple[str, str]]) -> set[str]:
        self.sent.extend(bodies)
        return set()


class FakeIndex:
    """OpenSearch, in memory: takes every write; every search finds the seeded message."""

    def __init__(self) -> None:
        self.written: list[Any] = []

    def write(self, changes: list[Any]) -> Any:
        from parley.adapters.opensearch import WriteOutcome

        self.written.extend(changes)
        return WriteOutcome(done=list(changes))

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        hit = {
            "_source": {"channelId": CHANNEL, "ts": TS},
            "highlight": {"text": ["<em>hello</em>"]},
        }
        return {"hits": {"total": {"value": 1}, "hits": [hit]}}


def _drive_indexer(
    module: Any, event: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> list[Any]:
    """Runs the index queue's event through the indexer; its reported failures."""
    index = FakeIndex()
    monkeypatch.setattr(module, "message_index", lambda _: index)
    reply = module.lambda_handler(event, Context())
    assert len(index.written) == len(event["Records"]), "every message change is written"
    return list(reply["batchItemFailures"])


def _drive_stream_forwarder(
    module: Any, event: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> list[Any]:
    """The stream's records to both queues: each message change to the index queue, and an
    envelope per event the sample app (in the channel) subscribes to, to the events queue."""
    index_queue, events_queue = FakeQueue(), FakeQueue()
    monkeypatch.setattr(module, "index_queue", lambda _: index_queue)
    monkeypatch.setattr(module, "events_queue", lambda _: events_queue)
    reply = module.lambda_handler(event, Context())
    message_records = [
        r for r in event["Records"] if r["dynamodb"]["Keys"]["SK"]["S"][:4] == "MSG#"
    ]
    # The batch's four message changes, as one pack named by its first record.
    ((first, pack),) = index_queue.sent
    assert first == message_records[0]["dynamodb"]["SequenceNumber"]
    assert len(json.loads(pack)["changes"]) == len(message_records) == 4
    kinds = [json.loads(body)["event"]["type"] for _, body in events_queue.sent]
    # the sample app subscribes to new messages and joins: not to the edit and the deletion
    assert kinds == ["message", "message", "member_joined_channel"], kinds
    return list(reply["batchItemFailures"])


class FakeAppEndpoint:
    """The sample app's request URL: echoes the challenge, acknowledges every event."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def post(self, url: str, body: bytes, headers: Any, timeout: float) -> Any:
        from parley.apps.delivery import Reply

        payload = json.loads(body)
        if payload["type"] == "url_verification":
            return Reply(200, json.dumps({"challenge": payload["challenge"]}).encode())
        self.events.append(payload)
        return Reply(200)


def _drive_events_delivery(
    module: Any, event: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> list[Any]:
    """The delivery function delivers each queued envelope to the sample app's endpoint."""
    queue, endpoint = FakeQueue(), FakeAppEndpoint()
    monkeypatch.setattr(module, "events_queue", lambda _: queue)
    monkeypatch.setattr(module, "http_poster", lambda config: endpoint)
    reply = module.lambda_handler(event, Context())
    assert len(endpoint.events) == len(event["Records"])
    return list(reply["batchItemFailures"])


def _drive_import_worker(
    module: Any, event: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> list[Any]:
    """The plan queues the sample export's one chunk, the very chunk of
    import_worker-chunk.json (its day file's place in the zip); the chunk, run after its
    plan, writes the day's thread and ends the import."""
    from parley.adapters.dynamodb import imports, messages

    queue = FakeQueue()
    monkeypatch.setattr(module, "import_queue", lambda _: queue)
    plan = sample_event("import_worker-plan.json")
    chunk = sample_event("import_worker-chunk.json")
    reply = module.lambda_handler(plan if event == chunk else event, Context())
    assert reply == {"batchItemFailures": []}
    planned = imports.get_import(IMPORT)
    assert planned is not None
    assert (planned.status, planned.chunks) == ("running", 1)
    assert [json.loads(body) for _, body in queue.sent] == [json.loads(chunk["Records"][0]["body"])]
    if event != chunk:
        return list(reply["batchItemFailures"])
    reply = module.lambda_handler(event, Context())
    done = imports.get_import(IMPORT)
    assert done is not None
    assert (done.status, done.messages, done.replies, done.reactions) == ("done", 1, 1, 1)
    root = messages.get_message(CHANNEL, "1732611661.000100")  # #general took the history
    assert root is not None
    assert (root.userId, root.replyCount) == (ALICE, 1)
    return list(reply["batchItemFailures"])


def _drive_retention_sweep(
    module: Any, event: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> list[Any]:
    """The schedule's event queues the run's plan; the channel task (cutoff: the seeded
    message's ts) deletes the message, its share and Bob's file, which nothing else shares."""
    import boto3

    from parley.adapters.dynamodb import files, messages
    from tests.functional.conftest import RETENTION_QUEUE_URL

    sqs = boto3.client("sqs")
    reply = module.lambda_handler(event, Context())
    if "Records" not in event:
        got = sqs.receive_message(QueueUrl=RETENTION_QUEUE_URL, MaxNumberOfMessages=10)
        tasks = [json.loads(m["Body"]) for m in got.get("Messages", [])]
        for message in got.get("Messages", []):
            sqs.delete_message(QueueUrl=RETENTION_QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])
        assert {"kind": "plan", "runAt": 1732762800.0} in tasks
        return list(reply["batchItemFailures"])
    assert messages.get_message(CHANNEL, TS) is None
    assert files.find_file(SHARED_FILE) is None
    assert files.find_file(PENDING_FILE) is not None  # shared nowhere: no message of its
    return list(reply["batchItemFailures"])


def _drive_fanout(module: Any, event: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The fan-out consumer posts the job's event to its connections, with its eventId."""
    from parley import wiring
    from parley.adapters.fanout import Broadcaster, Job

    poster = RecordingPoster()
    monkeypatch.setattr(wiring, "broadcaster", lambda: Broadcaster(poster, max_workers=1))
    reply = module.lambda_handler(event, Context())
    for record in event["Records"]:
        job = Job.parse(record["body"])
        for conn in job.targets:
            assert poster.event_ids[conn] == [job.event["eventId"]]
    return list(reply["batchItemFailures"])


Driver = Callable[[Any, dict[str, Any], pytest.MonkeyPatch], list[Any]]
QUEUE_DRIVERS: dict[str, Driver] = {
    "stream_forwarder": _drive_stream_forwarder,
    "search_indexer": _drive_indexer,
    "events_delivery": _drive_events_delivery,
    "import_worker": _drive_import_worker,
    "retention_sweep": _drive_retention_sweep,
    "fanout": _drive_fanout,
}


# The routes Slack's own clients call answer as Slack's: whether the reply says it posted.
SLACK_POSTED: dict[str, Callable[[dict[str, Any]], bool]] = {
    "POST /hooks/{token}": lambda reply: (reply["statusCode"], reply["body"]) == (200, "ok"),
    "POST /commands/{token}": lambda reply: (
        (reply["statusCode"], json.loads(reply["body"])) == (200, {"ok": True})
    ),
}


def function_of(event_file: Path) -> str:
    functions = sorted(p.name for p in (EVENTS.parent / "functions").iterdir() if p.is_dir())
    return max((f for f in functions if event_file.stem.startswith(f)), key=len)


EVENT_FILES = sorted(p for p in EVENTS.glob("*.json"))


@pytest.mark.parametrize("event_file", EVENT_FILES, ids=[p.stem for p in EVENT_FILES])
def test_sample_event_drives_its_handler(
    event_file: Path, seeded: RecordingPoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    event: dict[str, Any] = json.loads(event_file.read_text())
    function = function_of(event_file)
    refusal = any(tag in event_file.stem for tag in REFUSALS)
    if function == "authorizer":
        module = load_function("authorizer")
        module._verifier.cache_clear()
        # The sample tokens carry no valid signature (events/README.md): refused, never a crash.
        monkeypatch.setattr("jwt.PyJWKClient.fetch_data", lambda self: {"keys": []})
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            module.lambda_handler(event, Context())
        return
    module = load_function(function)
    if function in QUEUE_DRIVERS:  # the functions of streams and queues: their failures
        assert QUEUE_DRIVERS[function](module, event, monkeypatch) == []
        return
    if function == "notifier":
        assert module.lambda_handler(event, Context()) == {"batchItemFailures": []}
        return
    if function == "presence_sweep":
        assert module.lambda_handler(event, Context()) == {"announced": 0}
        return
    if function == "scheduled_poster":
        outcome = "reminded" if event["kind"] == "reminder" else "posted"
        assert module.lambda_handler(event, Context()) == {"outcome": outcome}
        return
    if event_file.stem.startswith("api-search"):
        monkeypatch.setattr(sys.modules["search_routes"], "message_index", lambda _: FakeIndex())
    reply = module.lambda_handler(event, Context())
    status = reply["statusCode"]
    assert status < 500, reply
    posted = SLACK_POSTED.get(event.get("routeKey", ""))
    body = json.loads(reply["body"]) if reply.get("body") and posted is None else None
    if posted is not None:
        assert posted(reply) != refusal, reply
    elif function == "api":
        assert (status >= 400) == refusal, reply
        if status >= 400:
            assert set(body["error"]) == {"code", "message"}
    elif function == "slack_api":  # Slack's answers: 200, ok or not
        assert (status, body["ok"]) == (200, not refusal), body
    elif function in ("ws_send_message", "ws_default", "ws_ping"):
        is_error = body["type"] == "error"
        assert is_error == (refusal or function == "ws_default"), body


class FailingQueue(FakeQueue):
    """A queue that refuses the messages of the given stream records."""

    def __init__(self, refused: set[str]) -> None:
        super().__init__()
        self.refused = refused

    def send(self, bodies: list[tuple[str, str]]) -> set[str]:
        super().send(bodies)
        return {sequence for sequence, _ in bodies if sequence in self.refused}


@pytest.mark.parametrize(
    ("index_refuses", "events_refuse", "reported"),
    [
        (set(), set(), None),
        # The index queue takes the batch's changes as one pack, named by record 1.
        ({"1"}, {"3"}, "1"),  # the index queue's failure comes first
        ({"1"}, set(), "1"),
        (set(), {"3"}, "3"),  # the events queue's
        (set(), {"5"}, "5"),
    ],
)
def test_the_stream_forwarder_reports_the_earliest_record_either_queue_refused(
    seeded: RecordingPoster,
    monkeypatch: pytest.MonkeyPatch,
    index_refuses: set[str],
    events_refuse: set[str],
    reported: str | None,
) -> None:
    """At least once for both queues: the stream retries from the earliest record that
    either did not take (the records after it may go twice; versions and event ids)."""
    module = load_function("stream_forwarder")
    event = sample_event("stream_forwarder.json")
    sequence = {str(n): f"1000000000000000000{n:02d}" for n in range(1, 6)}
    index_queue = FailingQueue({sequence[n] for n in index_refuses})
    events_queue = FailingQueue({sequence[n] for n in events_refuse})
    monkeypatch.setattr(module, "index_queue", lambda _: index_queue)
    monkeypatch.setattr(module, "events_queue", lambda _: events_queue)
    reply = module.lambda_handler(event, Context())
    expected = [{"itemIdentifier": sequence[reported]}] if reported else []
    assert reply == {"batchItemFailures": expected}
