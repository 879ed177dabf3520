"""Notifications from the table's stream: who is told, once, live or by SNS, and the listing.

The unit table has no stream, so each test hands the notifier the records DynamoDB would
send, built from the items the HTTP API stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import count
from typing import Any

import boto3
import pytest

from tests.functional.conftest import (
    ALICE,
    BOB,
    CAROL,
    TABLE,
    Api,
    Context,
    RecordingPoster,
    load_function,
)

_sequence = count(1)


def post(api: Api, cid: str, text: str, user: str = ALICE) -> str:
    status, body = api("POST", f"/channels/{cid}/messages", user=user, body={"text": text})
    assert status == 201, body
    return body["message"]["ts"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def record(cid: str, ts: str, event_name: str = "INSERT", old: dict | None = None) -> dict:
    """The stream record of the message as stored now, as Lambda delivers it."""
    keys = {"PK": {"S": f"CH#{cid}"}, "SK": {"S": f"MSG#{ts}"}}
    image = boto3.client("dynamodb").get_item(TableName=TABLE, Key=keys)["Item"]
    dynamodb: dict[str, Any] = {
        "Keys": keys,
        "NewImage": image,
        "SequenceNumber": str(next(_sequence)).zfill(21),
        "SizeBytes": 300,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        dynamodb["OldImage"] = old
    return {
        "eventID": f"e{dynamodb['SequenceNumber']}",
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "eventVersion": "1.1",
        "awsRegion": "us-east-1",
        "dynamodb": dynamodb,
    }


def deliver(*records: dict) -> list[dict[str, str]]:
    """Runs one batch through the notifier; its failed records. When every record fails,
    Powertools raises instead: a function error, for which Lambda retries the whole batch."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    try:
        reply = load_function("notifier").lambda_handler({"Records": list(records)}, Context())
    except BatchProcessingError:
        return [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records]
    return reply["batchItemFailures"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def listed(api: Api, user: str, **query: str) -> dict[str, Any]:
    status, body = api("GET", "/me/notifications", user=user, query=query or None)
    assert status == 200, body
    return body  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


@pytest.fixture
def carol_joined(api: Api, workspace: dict[str, str]) -> dict[str, str]:
    """The workspace with Carol in it too (and so in #general)."""
    _, invite = api("POST", f"/workspaces/{workspace['wid']}/invites")
    assert api("POST", f"/invites/{invite['invite']['code']}/accept", user=CAROL)[0] == 200
    return workspace


def test_a_mention_notifies_the_mentioned_member_and_not_the_author(
    api: Api, workspace: dict[str, str], connect: Callable[..., None], poster: RecordingPoster
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    connect("bob-1", BOB, wid)
    connect("alice-1", ALICE, wid)
    # Carol is not in the workspace: mentioning her notifies nobody.
    ts = post(api, cid, f"<@{BOB}> and <@{CAROL}> and me <@{ALICE}>, review please")
    assert deliver(record(cid, ts)) == []
    [frame] = poster.events("bob-1", "notification")
    assert frame["notification"] == {
        "id": f"{cid}-{ts}",
        "type": "mention",
        "channelId": cid,
        "ts": ts,
        "userId": ALICE,
        "createdAt": frame["notification"]["createdAt"],
    }
    assert poster.events("alice-1", "notification") == []
    assert [n["ts"] for n in listed(api, BOB)["notifications"]] == [ts]
    assert listed(api, ALICE)["notifications"] == []
    assert listed(api, CAROL)["notifications"] == []


def test_a_plain_channel_message_notifies_nobody(
    api: Api, workspace: dict[str, str], connect: Callable[..., None], poster: RecordingPoster
) -> None:
    cid = workspace["general"]
    connect("bob-1", BOB, workspace["wid"])
    assert deliver(record(cid, post(api, cid, "just saying"))) == []
    assert poster.events("bob-1", "notification") == []
    assert listed(api, BOB)["notifications"] == []


def test_channel_broadcast_notifies_every_member_but_the_author(
    api: Api, carol_joined: dict[str, str]
) -> None:
    cid = carol_joined["general"]
    ts = post(api, cid, "<!channel> deploy at 5", user=BOB)
    assert deliver(record(cid, ts)) == []
    assert [n["ts"] for n in listed(api, ALICE)["notifications"]] == [ts]
    assert [n["ts"] for n in listed(api, CAROL)["notifications"]] == [ts]
    assert listed(api, BOB)["notifications"] == []


def test_here_notifies_only_those_active_when_it_was_sent(
    api: Api, carol_joined: dict[str, str], connect: Callable[..., None], poster: RecordingPoster
) -> None:
    wid, cid = carol_joined["wid"], carol_joined["general"]
    connect("bob-1", BOB, wid)  # Bob is active, Carol is not
    ts = post(api, cid, "<!here> standup")
    inserted = record(cid, ts)
    inserted["dynamodb"]["NewImage"].pop("hereUsers")  # as the insert's own record has it
    # The insert, then the update that records who was active, as the stream orders them.
    assert deliver(inserted, record(cid, ts, "MODIFY", old=inserted["dynamodb"]["NewImage"])) == []
    assert [n["ts"] for n in listed(api, BOB)["notifications"]] == [ts]
    assert listed(api, CAROL)["notifications"] == []
    assert listed(api, ALICE)["notifications"] == []
    assert len(poster.events("bob-1", "notification")) == 1


def test_every_dm_message_notifies_the_other_members_as_dm(
    api: Api, carol_joined: dict[str, str], connect: Callable[..., None], poster: RecordingPoster
) -> None:
    wid = carol_joined["wid"]
    status, opened = api("POST", f"/workspaces/{wid}/dms", body={"userIds": [BOB, CAROL]})
    assert status == 200, opened
    dm = opened["channel"]["id"]
    connect("carol-1", CAROL, wid)
    ts = post(api, dm, "lunch?")
    assert deliver(record(dm, ts)) == []
    for user in (BOB, CAROL):
        [notification] = listed(api, user)["notifications"]
        assert (notification["type"], notification["channelId"], notification["userId"]) == (
            "dm",
            dm,
            ALICE,
        )
    assert listed(api, ALICE)["notifications"] == []
    assert [f["notification"]["type"] for f in poster.events("carol-1", "notification")] == ["dm"]


def test_a_record_delivered_twice_notifies_once(
    api: Api, workspace: dict[str, str], connect: Callable[..., None], poster: RecordingPoster
) -> None:
    cid = workspace["general"]
    connect("bob-1", BOB, workspace["wid"])
    same = record(cid, post(api, cid, f"<@{BOB}> ping"))
    assert deliver(same) == []
    assert deliver(same) == []
    assert len(listed(api, BOB)["notifications"]) == 1
    assert len(poster.events("bob-1", "notification")) == 1


def test_a_poison_record_fails_alone_and_the_rest_of_the_batch_goes_on(
    api: Api, workspace: dict[str, str]
) -> None:
    cid = workspace["general"]
    good = record(cid, post(api, cid, f"<@{BOB}> fine"))
    poison = record(cid, post(api, cid, f"<@{BOB}> broken"))
    poison["dynamodb"]["NewImage"]["ts"] = {"Q": "not a DynamoDB type"}
    assert deliver(poison, good) == [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]
    assert [n["ts"] for n in listed(api, BOB)["notifications"]] == [
        good["dynamodb"]["NewImage"]["ts"]["S"]
    ]


def test_an_offline_recipient_gets_an_sns_message_and_an_online_one_does_not(
    api: Api,
    carol_joined: dict[str, str],
    connect: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from parley import wiring
    from parley.adapters.sns import SnsPush

    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="parley-unit-notifications")["TopicArn"]
    queue = sqs.create_queue(QueueName="parley-unit-push")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    monkeypatch.setattr(wiring, "push", lambda: SnsPush(topic, "us-east-1"))
    wid, cid = carol_joined["wid"], carol_joined["general"]
    connect("bob-1", BOB, wid)  # Bob is online, Carol is not
    ts = post(api, cid, f"<@{BOB}> <@{CAROL}> have a look")
    assert deliver(record(cid, ts)) == []
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in received] == [
        {
            "recipient": CAROL,
            "workspaceId": wid,
            "id": f"{cid}-{ts}",
            "type": "mention",
            "channelId": cid,
            "ts": ts,
            "userId": ALICE,
            "createdAt": json.loads(received[0]["Body"])["createdAt"],
        }
    ]


def test_notifications_are_listed_newest_first_in_pages(
    api: Api, workspace: dict[str, str]
) -> None:
    cid = workspace["general"]
    sent = [post(api, cid, f"<@{BOB}> number {n}") for n in range(3)]
    assert deliver(*(record(cid, ts) for ts in sent)) == []
    first = listed(api, BOB, limit="2")
    assert [n["ts"] for n in first["notifications"]] == [sent[2], sent[1]]
    assert first["nextCursor"]
    rest = listed(api, BOB, limit="2", cursor=first["nextCursor"])
    assert [n["ts"] for n in rest["notifications"]] == [sent[0]]
    assert rest["nextCursor"] is None


def test_a_forged_notifications_cursor_is_a_400(api: Api, workspace: dict[str, str]) -> None:
    from parley.adapters.dynamodb.base import encode_cursor

    forged = encode_cursor({"SK": "PROFILE"})
    assert forged is not None
    status, body = api("GET", "/me/notifications", user=BOB, query={"cursor": forged})
    assert status == 400, body


class FlakyPush:
    """A push adapter whose first publish to each user in `failing` raises, as SNS may."""

    def __init__(self, failing: set[str]) -> None:
        self.failing = set(failing)
        self.pushed: list[tuple[str, str]] = []

    def publish(self, recipient: str, workspace_id: str, notification: Any) -> None:
        if recipient in self.failing:
            self.failing.discard(recipient)
            raise RuntimeError("SNS: service unavailable")
        self.pushed.append((recipient, notification.ts))


def test_a_push_that_fails_partway_fails_the_record_and_its_redelivery_pushes_the_rest(
    api: Api,
    carol_joined: dict[str, str],
    connect: Callable[..., None],
    poster: RecordingPoster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from parley import wiring

    push = FlakyPush(failing={BOB})
    monkeypatch.setattr(wiring, "push", lambda: push)
    wid, cid = carol_joined["wid"], carol_joined["general"]
    connect("alice-1", ALICE, wid)
    ts = post(api, cid, f"<@{BOB}> <@{CAROL}> <@{ALICE}> sync at 3", user=CAROL)
    inserted = record(cid, ts)
    # Bob's push fails (Carol's is her own message; Alice is live): the record fails.
    assert deliver(inserted) == [{"itemIdentifier": inserted["dynamodb"]["SequenceNumber"]}]
    assert push.pushed == []
    assert len(poster.events("alice-1", "notification")) == 1
    # The redelivery pushes only what did not go out, and succeeds.
    assert deliver(inserted) == []
    assert push.pushed == [(BOB, ts)]
    assert len(poster.events("alice-1", "notification")) == 1
    # Everything has reached its recipient: a third delivery sends nothing at all.
    assert deliver(inserted) == []
    assert push.pushed == [(BOB, ts)]
    assert [n["ts"] for n in listed(api, BOB)["notifications"]] == [ts]


def test_of_two_offline_recipients_only_the_failed_push_is_repeated(
    api: Api, carol_joined: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley import wiring

    push = FlakyPush(failing={CAROL})
    monkeypatch.setattr(wiring, "push", lambda: push)
    cid = carol_joined["general"]
    ts = post(api, cid, "<!channel> release is out")
    inserted = record(cid, ts)
    assert len(deliver(inserted)) == 1
    assert push.pushed == [(BOB, ts)]  # Bob's went out before Carol's failed
    assert deliver(inserted) == []
    assert push.pushed == [(BOB, ts), (CAROL, ts)]


def test_a_push_that_keeps_failing_keeps_failing_the_record(
    api: Api, workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """So Lambda retries it until MaximumRetryAttempts and sends it to the DLQ."""
    from parley import wiring

    class DownPush:
        def publish(self, recipient: str, workspace_id: str, notification: Any) -> None:
            raise RuntimeError("SNS: throttled")

    monkeypatch.setattr(wiring, "push", DownPush)
    cid = workspace["general"]
    inserted = record(cid, post(api, cid, f"<@{BOB}> are you there?"))
    for _ in range(3):
        assert len(deliver(inserted)) == 1
    assert len(listed(api, BOB)["notifications"]) == 1  # written once all the same


@pytest.mark.parametrize("channel_type", ["public", "private", "dm", "group_dm"])
@pytest.mark.parametrize("here_only", [False, True])
@pytest.mark.parametrize(
    ("mentions", "broadcast", "here_users"),
    [
        (None, None, None),
        ({BOB}, None, None),
        ({ALICE}, None, None),
        (None, "channel", None),
        (None, "here", None),
        (None, "here", {BOB}),
        ({CAROL}, "here", {BOB}),
    ],
)
def test_a_message_said_to_notify_nobody_has_no_recipients_whoever_the_members(
    channel_type: str,
    here_only: bool,
    mentions: set[str] | None,
    broadcast: str | None,
    here_users: set[str] | None,
) -> None:
    from parley.domain import notifications
    from parley.domain.records import MessageRecord

    message = MessageRecord(
        channelId="c1",
        workspaceId="w1",
        ts="1.000001",
        userId=ALICE,
        text="hi",
        mentions=frozenset(mentions) if mentions is not None else None,
        broadcast=broadcast,
        hereUsers=frozenset(here_users) if here_users is not None else None,
        createdAt="2026-11-28T10:00:00.000Z",
    )
    everyone = {ALICE, BOB, CAROL}
    named = notifications.recipients(message, channel_type, everyone, here_only).user_ids
    # Only a message that may notify is worth its members' read; one that may, names someone
    # here (bar a mention of the author alone, which the members cannot change either).
    if not notifications.may_notify(message, channel_type, here_only):
        assert named == frozenset()
    elif mentions != {ALICE} or broadcast or channel_type in ("dm", "group_dm"):
        assert named
