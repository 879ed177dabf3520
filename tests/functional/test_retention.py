"""Retention (API.md, "Team features"): the policy routes, and the daily sweep that deletes
messages, their replies, pins, shares and files past their age from the table and the
bucket (search hears of it through the stream's REMOVE records), idempotent and resumable.

The sweep runs as in Lambda: the schedule's event is handed to the function, which queues
the run's plan; the retention queue's tasks are received from moto and handed to the
function as SQS events until the queue is empty. A run's time is the scheduled event's
`time`, so a test sets it days ahead instead of waiting for messages to age.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from tests.functional.conftest import (
    ALICE,
    BOB,
    CAROL,
    RETENTION_QUEUE_URL,
    TABLE,
    Api,
    load_function,
    post,
    sample_event,
)
from tests.functional.test_app_events import forward, install, message_image
from tests.functional.test_files import object_key, ready_file, stored_object

DAY = 86_400


class Clock:
    """A Lambda context whose remaining time a test sets."""

    function_name = "parley-unit-retention"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:parley-unit-retention"
    memory_limit_in_mb = 512
    aws_request_id = "req-retention"
    log_group_name = "/aws/lambda/parley-unit-retention"
    log_stream_name = "retention"

    def __init__(self, remaining: Callable[[], int] = lambda: 300_000) -> None:
        self.remaining = remaining

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining()


def put_retention(api: Api, path: str, days: Any, user: str = ALICE) -> tuple[int, Any]:
    return api("PUT", f"{path}/retention", user=user, body={"days": days})


def table_items() -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(TABLE)
    return table.scan()["Items"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def keys_of(items: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(str(item["PK"]), str(item["SK"])) for item in items}


def queued() -> list[dict[str, Any]]:
    """Takes every task off the retention queue."""
    sqs = boto3.client("sqs")
    found: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=RETENTION_QUEUE_URL, MaxNumberOfMessages=10)
        messages = got.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(message)
            sqs.delete_message(QueueUrl=RETENTION_QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    record = sample_event("retention_sweep-channel.json")["Records"][0]
    return {
        "Records": [{**record, "messageId": m["MessageId"], "body": m["Body"]} for m in messages]
    }


def sweep(run_at: float, context: Clock | None = None) -> list[dict[str, Any]]:
    """One daily run at `run_at`, its tasks handled until the queue is empty; the tasks."""
    handler = load_function("retention_sweep").lambda_handler
    queued()  # what an earlier test left
    event = sample_event("retention_sweep.json")
    # EventBridge's are whole seconds; finer ones put a cutoff between two messages.
    event["time"] = datetime.fromtimestamp(run_at, UTC).isoformat().replace("+00:00", "Z")
    handler(event, context or Clock())
    tasks: list[dict[str, Any]] = []
    while messages := queued():
        tasks.extend(json.loads(m["Body"]) for m in messages)
        reply = handler(sqs_event(messages), context or Clock())
        assert reply == {"batchItemFailures": []}
    return tasks


@pytest.fixture
def counted(api: Api) -> dict[str, int]:
    """The table's and the bucket's write requests, by operation, from now on."""
    from parley.adapters.dynamodb.base import botocore_client

    counts: dict[str, int] = {}
    writes = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")

    def count(model: Any, **_: Any) -> None:
        name = model.name
        if name in writes or name in ("DeleteObjects", "DeleteObject"):
            counts[name] = counts.get(name, 0) + 1

    botocore_client().meta.events.register("before-call.dynamodb", count)
    from parley import wiring

    wiring.file_bucket()._client.meta.events.register("before-call.s3", count)
    return counts


# ------------------------------------------------------------------ the policy routes


def test_admins_set_and_clear_the_workspace_and_channel_retention(
    api: Api, workspace: dict[str, str]
) -> None:
    from parley.adapters.dynamodb import retention

    wid, general = workspace["wid"], workspace["general"]
    assert put_retention(api, f"/workspaces/{wid}", 30) == (204, None)
    assert put_retention(api, f"/channels/{general}", 7) == (204, None)
    found = {(p.channelId, p.days) for p in retention.policies()}
    assert found == {(None, 30), (general, 7)}
    assert put_retention(api, f"/workspaces/{wid}", 90)[0] == 204  # replaced
    assert put_retention(api, f"/workspaces/{wid}", None)[0] == 204  # keep forever
    assert {(p.channelId, p.days) for p in retention.policies()} == {(general, 7)}
    assert put_retention(api, f"/channels/{general}", None)[0] == 204
    # A channel's null keeps it forever, whatever the workspace says: it stays a policy.
    assert {(p.channelId, p.days) for p in retention.policies()} == {(general, None)}


@pytest.mark.parametrize("days", [0, 3651, -1, "thirty", 2.5, [30]])
def test_days_outside_1_to_3650_are_refused(api: Api, workspace: dict[str, str], days: Any) -> None:
    for path in (f"/workspaces/{workspace['wid']}", f"/channels/{workspace['general']}"):
        status, reply = put_retention(api, path, days)
        assert status in (400, 422), reply  # API.md: invalid_request, 400 or 422
        assert reply["error"]["code"] == "invalid_request"


def test_a_body_without_days_is_refused(api: Api, workspace: dict[str, str]) -> None:
    status, reply = api("PUT", f"/workspaces/{workspace['wid']}/retention", body={})
    assert (status, reply["error"]["code"]) == (422, "invalid_request")
    status, reply = api("PUT", f"/channels/{workspace['general']}/retention", raw_body="{no")
    assert (status, reply["error"]["code"]) == (422, "invalid_request")


def test_only_admins_set_retention_and_outsiders_learn_nothing(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    status, reply = put_retention(api, f"/workspaces/{wid}", 30, user=BOB)
    assert (status, reply["error"]["code"]) == (403, "forbidden")
    assert put_retention(api, f"/channels/{general}", 30, user=BOB)[0] == 403
    assert put_retention(api, f"/workspaces/{wid}", 30, user=CAROL)[0] == 404
    assert put_retention(api, f"/channels/{general}", 30, user=CAROL)[0] == 404
    assert put_retention(api, "/channels/C-nope", 30)[0] == 404
    # A private channel exists only for its members, a workspace admin's too.
    _, made = api(
        "POST", f"/workspaces/{wid}/channels", user=BOB, body={"name": "secret", "private": True}
    )
    secret = made["channel"]["id"]
    assert put_retention(api, f"/channels/{secret}", 30)[0] == 404
    assert put_retention(api, f"/channels/{secret}", 30, user=BOB)[0] == 403
    api("POST", f"/channels/{secret}/members", user=BOB, body={"userIds": [ALICE]})
    assert put_retention(api, f"/channels/{secret}", 30)[0] == 204


# ------------------------------------------------------------------ the sweep


def between(older: dict[str, Any], newer: dict[str, Any], days: int = 1) -> float:
    """A run time whose cutoff for `days` falls between the two messages."""
    return (float(older["ts"]) + float(newer["ts"])) / 2 + days * DAY


def test_the_sweep_deletes_messages_replies_pins_and_files_past_their_age(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    file = ready_file(api, wid)
    key = object_key(file["id"])
    root = post(api, general, "old news", fileIds=[file["id"]])
    reply = post(api, general, "old reply", threadTs=root["ts"])
    assert api("PUT", f"/channels/{general}/pins/{root['ts']}")[0] == 204
    time.sleep(0.002)
    kept = post(api, general, "fresh")
    late_reply = post(api, general, "a reply after the cutoff", threadTs=root["ts"])
    before = keys_of(table_items())
    assert put_retention(api, f"/workspaces/{wid}", 1)[0] == 204

    tasks = sweep(between(reply, kept))

    assert [t["kind"] for t in tasks].count("plan") == 1
    assert [t["kind"] for t in tasks].count("workspace") == 1
    gone = before - keys_of(table_items())
    assert gone == {
        (f"CH#{general}", f"MSG#{root['ts']}"),
        (f"CH#{general}", f"MSG#{reply['ts']}"),
        # The thread goes with its root, a reply newer than the cutoff too.
        (f"CH#{general}", f"MSG#{late_reply['ts']}"),
        (f"CH#{general}", f"PIN#{root['ts']}"),
        (f"FILE#{file['id']}", f"SHARE#{general}#{root['ts']}"),
        (f"FILE#{file['id']}", "FILE"),
        (f"WS#{wid}", f"FILE#{file['id']}"),
    }
    assert stored_object(key) is None
    _, history = api("GET", f"/channels/{general}/messages")
    assert [m["ts"] for m in history["messages"]] == [kept["ts"]]
    assert api("GET", f"/channels/{general}/messages/{root['ts']}")[0] == 404
    assert api("GET", f"/files/{file['id']}")[0] == 404


def test_a_rerun_finds_nothing_and_writes_nothing(
    api: Api, workspace: dict[str, str], counted: dict[str, int]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    file = ready_file(api, wid)
    for n in range(30):
        post(api, general, f"old {n}", **({"fileIds": [file["id"]]} if n == 0 else {}))
    assert put_retention(api, f"/workspaces/{wid}", 1)[0] == 204
    run_at = time.time() + 2 * DAY
    counted.clear()
    sweep(run_at)
    assert counted["BatchWriteItem"] == 2  # 30 messages, a share, a file and its reference
    assert counted["DeleteObjects"] == 1
    counted.clear()
    sweep(run_at)  # the same run again, as a redelivered plan would make it
    assert counted == {}
    sweep(run_at + DAY)  # and the next day's
    assert counted == {}


def test_a_channel_policy_overrides_the_workspace_policy(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    _, made = api("POST", f"/workspaces/{wid}/channels", body={"name": "archive-me"})
    longer, forever = made["channel"]["id"], workspace["general"]
    _, made = api("POST", f"/workspaces/{wid}/channels", body={"name": "short"})
    short = made["channel"]["id"]
    _, dm = api("POST", f"/workspaces/{wid}/dms", body={"userIds": [BOB]})
    direct = dm["channel"]["id"]
    posted = {cid: post(api, cid, "three days old") for cid in (longer, forever, short, direct)}
    assert put_retention(api, f"/workspaces/{wid}", 1)[0] == 204
    assert put_retention(api, f"/channels/{longer}", 10)[0] == 204
    assert put_retention(api, f"/channels/{forever}", None)[0] == 204

    sweep(time.time() + 3 * DAY)

    remaining = keys_of(table_items())
    assert (f"CH#{longer}", f"MSG#{posted[longer]['ts']}") in remaining
    assert (f"CH#{general}", f"MSG#{posted[general]['ts']}") in remaining
    assert (f"CH#{short}", f"MSG#{posted[short]['ts']}") not in remaining
    assert (f"CH#{direct}", f"MSG#{posted[direct]['ts']}") not in remaining  # DMs too
    sweep(time.time() + 11 * DAY)
    assert (f"CH#{longer}", f"MSG#{posted[longer]['ts']}") not in keys_of(table_items())
    assert (f"CH#{general}", f"MSG#{posted[general]['ts']}") in keys_of(table_items())


def test_a_channel_policy_alone_sweeps_that_channel_only(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    _, made = api("POST", f"/workspaces/{wid}/channels", body={"name": "ephemeral"})
    cid = made["channel"]["id"]
    swept, other = post(api, cid, "goes"), post(api, general, "stays")
    assert put_retention(api, f"/channels/{cid}", 1)[0] == 204
    tasks = sweep(time.time() + 2 * DAY)
    assert [t.get("channelId") for t in tasks if t["kind"] == "channel"] == [cid]
    remaining = keys_of(table_items())
    assert (f"CH#{cid}", f"MSG#{swept['ts']}") not in remaining
    assert (f"CH#{general}", f"MSG#{other['ts']}") in remaining


def test_a_file_also_shared_where_it_is_not_past_its_age_stays(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    _, made = api("POST", f"/workspaces/{wid}/channels", body={"name": "keepers"})
    keepers = made["channel"]["id"]
    file = ready_file(api, wid)
    key = object_key(file["id"])
    old = post(api, general, "the deck", fileIds=[file["id"]])
    elsewhere = post(api, keepers, "the deck again", fileIds=[file["id"]])
    assert put_retention(api, f"/workspaces/{wid}", 1)[0] == 204
    assert put_retention(api, f"/channels/{keepers}", 30)[0] == 204

    sweep(time.time() + 2 * DAY)

    remaining = keys_of(table_items())
    assert (f"FILE#{file['id']}", f"SHARE#{general}#{old['ts']}") not in remaining
    assert (f"FILE#{file['id']}", f"SHARE#{keepers}#{elsewhere['ts']}") in remaining
    assert {(f"FILE#{file['id']}", "FILE"), (f"WS#{wid}", f"FILE#{file['id']}")} <= remaining
    assert stored_object(key) is not None
    assert api("GET", f"/files/{file['id']}")[0] == 200
    # Once the other share is past its age too, the file goes with it.
    sweep(time.time() + 31 * DAY)
    assert stored_object(key) is None
    assert api("GET", f"/files/{file['id']}")[0] == 404


def test_a_channel_task_near_its_deadline_requeues_itself_with_its_cursor(
    api: Api, workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.domain import retention

    wid, general = workspace["wid"], workspace["general"]
    posted = [post(api, general, f"old {n}") for n in range(7)]
    assert put_retention(api, f"/workspaces/{wid}", 1)[0] == 204
    monkeypatch.setattr(retention, "PAGE", 2)
    # Time for two pages of the channel (the channel task asks before each one).
    budget = iter([300_000] * 2)
    context = Clock(lambda: next(budget, retention.TIME_MARGIN_MS - 1))
    handler = load_function("retention_sweep").lambda_handler
    queued()
    event = sample_event("retention_sweep.json")
    event["time"] = datetime.fromtimestamp(time.time() + 2 * DAY, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    handler(event, context)
    for _ in range(2):  # the plan, then the workspace
        assert handler(sqs_event(queued()), context) == {"batchItemFailures": []}
    [channel_task] = queued()
    assert handler(sqs_event([channel_task]), context) == {"batchItemFailures": []}

    [again] = queued()
    resumed = json.loads(again["Body"])
    first = json.loads(channel_task["Body"])
    assert resumed == {**first, "cursor": posted[3]["ts"]}  # two pages of two done
    left = {str(item["SK"]) for item in table_items() if str(item["SK"]).startswith("MSG#")}
    assert left == {f"MSG#{m['ts']}" for m in posted[4:]}
    assert handler(sqs_event([again]), Clock()) == {"batchItemFailures": []}
    assert not any(str(item["SK"]).startswith("MSG#") for item in table_items())
    assert queued() == []


def test_unprocessed_deletes_are_sent_again_after_a_jittered_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from parley.adapters.dynamodb import retention

    calls: list[int] = []
    pauses: list[float] = []

    def batch_write(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        [requests] = params["RequestItems"].values()
        calls.append(len(requests))
        left = requests[1:] if len(calls) < 3 else []  # DynamoDB takes one key a call
        return {"UnprocessedItems": {"t": left} if left else {}}

    monkeypatch.setattr(retention.Item.Meta, "table_name", "t")
    retention.delete_keys([("CH#C1", f"MSG#{n}") for n in range(27)], batch_write, pauses.append)
    assert calls == [25, 24, 23, 2]
    assert len(pauses) == 2
    assert all(0 <= p <= 2.0 for p in pauses)


def test_a_failing_task_is_reported_and_the_rest_of_the_batch_runs(
    api: Api, workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.domain import retention

    calls: list[str] = []

    def flaky(body: str, *args: Any) -> retention.Sweep:
        calls.append(body)
        if "bad" in body:
            raise RuntimeError("the table failed")
        return retention.Sweep()

    monkeypatch.setattr(retention, "handle", flaky)
    handler = load_function("retention_sweep").lambda_handler
    messages = [
        {"MessageId": "m1", "Body": '{"kind":"plan","runAt":1,"x":"bad"}'},
        {"MessageId": "m2", "Body": '{"kind":"plan","runAt":1}'},
    ]
    reply = handler(sqs_event(messages), Clock())
    assert reply == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert len(calls) == 2


def test_malformed_tasks_are_dropped(api: Api) -> None:
    handler = load_function("retention_sweep").lambda_handler
    messages = [
        {"MessageId": "m1", "Body": "not json"},
        {"MessageId": "m2", "Body": '{"kind":"channel"}'},
        {"MessageId": "m3", "Body": '{"kind":"mystery"}'},
    ]
    assert handler(sqs_event(messages), Clock()) == {"batchItemFailures": []}


def test_search_gets_a_tombstone_for_each_message_the_sweep_removed(
    api: Api, workspace: dict[str, str]
) -> None:
    """What the stream hands the forwarder for the sweep's deletes (REMOVE records with the
    items' old images) becomes a deleted change for each message."""
    from parley.search import pipeline
    from parley.streams import StreamRecord

    wid, general = workspace["wid"], workspace["general"]
    root = post(api, general, "indexed once")
    reply = post(api, general, "indexed too", threadTs=root["ts"])
    before = {(str(i["PK"]), str(i["SK"])): i for i in table_items()}
    assert put_retention(api, f"/workspaces/{wid}", 1)[0] == 204
    sweep(time.time() + 2 * DAY)
    removed = [before[key] for key in set(before) - keys_of(table_items())]
    records = [StreamRecord(str(n), "REMOVE", None, item) for n, item in enumerate(removed)]

    class Queue:
        def __init__(self) -> None:
            self.bodies: list[str] = []

        def send(self, bodies: list[tuple[str, str]]) -> set[str]:
            self.bodies.extend(body for _, body in bodies)
            return set()

    queue = Queue()
    assert pipeline.forward(records, queue) is None
    changes = [c for body in queue.bodies for c in pipeline.unpack(body)]
    assert {(c.ts, c.deleted) for c in changes} == {(root["ts"], True), (reply["ts"], True)}


def test_apps_do_not_hear_the_sweeps_deletes_as_message_deleted(
    api: Api, workspace: dict[str, str]
) -> None:
    from parley.streams import StreamRecord

    wid, general = workspace["wid"], workspace["general"]
    app = install(api, wid, ["message.channels"], ["channels:history"], channel=general)
    # message_image's messages were sent on 2025-11-28: over a year ago.
    old = StreamRecord("1", "REMOVE", None, message_image(wid, general, ALICE, 1))
    [heard] = forward([old]).heard(app)  # no policy: a person deleted it
    assert heard["subtype"] == "message_deleted"
    assert put_retention(api, f"/workspaces/{wid}", 30)[0] == 204
    assert forward([old]).heard(app) == []  # past the workspace's 30 days: the sweep's
    assert put_retention(api, f"/channels/{general}", 3650)[0] == 204
    assert len(forward([old]).heard(app)) == 1  # the channel keeps it ten years


def test_make_retention_sweep_queues_a_run_as_the_schedule_does(api: Api) -> None:
    from parley import retention_run

    queued()
    assert (
        retention_run.main(["--queue-url", RETENTION_QUEUE_URL, "--at", "2030-01-02T03:04:05"]) == 0
    )
    [task] = queued()
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    assert json.loads(task["Body"]) == {"kind": "plan", "runAt": at}
    with pytest.raises(SystemExit):
        retention_run.main([])  # neither a stack nor a queue
