"""The Events API against the table: which app hears which change, and what delivery
records (verified URL, failures, pausing, resuming)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from parley.apps.delivery import PAUSE_AFTER, Envelope, Reply
from parley.streams import StreamRecord
from tests.unit.conftest import ALICE, BOB, Api

URL = "https://ci.example.com/parley/events"


class Queue:
    def __init__(self) -> None:
        self.sent: list[Envelope] = []
        self.delayed: list[tuple[Envelope, int]] = []

    def send(self, bodies: Sequence[tuple[str, str]]) -> set[str]:
        self.sent.extend(Envelope.model_validate_json(body) for _, body in bodies)
        return set()

    def send_delayed(self, body: str, delay_seconds: int) -> None:
        self.delayed.append((Envelope.model_validate_json(body), delay_seconds))


class Endpoint:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[dict[str, Any]] = []

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Reply:
        payload = json.loads(body)
        self.bodies.append(payload)
        if payload["type"] == "url_verification":
            return Reply(200, json.dumps({"challenge": payload["challenge"]}).encode())
        return Reply(self.status)


def install(
    api: Api, wid: str, events: list[str], scopes: list[str] | None = None
) -> dict[str, Any]:
    body = {"name": "CI", "scopes": scopes or ["chat:write"], "eventsUrl": URL, "events": events}
    status, created = api("POST", f"/workspaces/{wid}/apps", body=body)
    assert status == 201, created
    return created["app"]  # type: ignore[no-any-return]


def message_record(wid: str, cid: str, user: str, seq: str = "1") -> StreamRecord:
    ts = f"1764288000.{int(seq):06d}"
    image = {
        "PK": f"CH#{cid}",
        "SK": f"MSG#{ts}",
        "workspaceId": wid,
        "channelId": cid,
        "ts": ts,
        "userId": user,
        "text": "hi",
        "version": 1,
    }
    return StreamRecord(seq, "INSERT", image, None)


def forward(records: list[StreamRecord]) -> Queue:
    from parley.domain import app_events

    queue = Queue()
    assert app_events.forward(records, queue) is None
    return queue


def test_an_app_hears_subscribed_events_only_from_channels_its_bot_is_in(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    app = install(api, wid, ["message"])
    _, other = api("POST", f"/workspaces/{wid}/channels", body={"name": "random"})
    assert forward([message_record(wid, general, ALICE)]).sent == []  # bot not in #general
    api("POST", f"/channels/{general}/members", body={"userIds": [app["botUserId"]]})
    queue = forward(
        [
            message_record(wid, general, ALICE, "1"),
            message_record(wid, other["channel"]["id"], ALICE, "2"),
            message_record(wid, general, app["botUserId"], "3"),  # its own echo: not sent back
        ]
    )
    assert [(e.appId, e.event["message"]["ts"]) for e in queue.sent] == [
        (app["id"], "1764288000.000001")
    ]


def test_unsubscribed_types_and_paused_apps_hear_nothing(
    api: Api, workspace: dict[str, str]
) -> None:
    from parley.store import apps as app_store

    wid, general = workspace["wid"], workspace["general"]
    app = install(api, wid, ["reaction_added"])
    api("POST", f"/channels/{general}/members", body={"userIds": [app["botUserId"]]})
    assert forward([message_record(wid, general, BOB)]).sent == []
    subscribed = install(api, wid, ["message"])
    api("POST", f"/channels/{general}/members", body={"userIds": [subscribed["botUserId"]]})
    app_store.pause_events(subscribed["id"], "testing")
    assert forward([message_record(wid, general, BOB)]).sent == []


def test_a_public_channel_created_reaches_apps_that_may_read_channels(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    reader = install(api, wid, ["channel_created"], ["channels:read"])
    install(api, wid, ["channel_created"], ["chat:write"])
    meta = {
        "PK": "CH#C9",
        "SK": "META",
        "workspaceId": wid,
        "channelId": "C9",
        "name": "launch",
        "type": "public",
    }
    queue = forward([StreamRecord("1", "INSERT", meta, None)])
    assert [e.appId for e in queue.sent] == [reader["id"]]
    private = {**meta, "type": "private"}
    assert forward([StreamRecord("2", "INSERT", private, None)]).sent == []


def deliver(envelope: Envelope, endpoint: Endpoint, queue: Queue) -> list[str]:
    from parley.domain import app_delivery

    queued = [app_delivery.QueuedEnvelope("m1", envelope.model_dump_json())]
    return app_delivery.deliver(queued, endpoint, queue)


def test_delivery_verifies_the_url_once_then_posts(api: Api, workspace: dict[str, str]) -> None:
    from parley.store import apps as app_store

    app = install(api, workspace["wid"], ["message"])
    event = {"type": "message", "channelId": workspace["general"], "message": {"ts": "1"}}
    envelope = Envelope(
        appId=app["id"], eventId="Ev1", eventTime=1, workspaceId=workspace["wid"], event=event
    )
    endpoint = Endpoint()
    assert deliver(envelope, endpoint, Queue()) == []
    assert deliver(envelope, endpoint, Queue()) == []
    assert [b["type"] for b in endpoint.bodies] == [
        "url_verification",
        "event_callback",
        "event_callback",
    ]
    stored = app_store.get_app(app["id"])
    assert stored is not None
    assert stored.eventsVerifiedUrl == URL


def test_a_failing_subscription_is_paused_and_an_admin_resumes_it(
    api: Api, workspace: dict[str, str]
) -> None:
    app = install(api, workspace["wid"], ["message"])
    event = {"type": "message", "channelId": workspace["general"], "message": {"ts": "1"}}
    last_try = Envelope(
        appId=app["id"],
        eventId="Ev1",
        eventTime=1,
        workspaceId=workspace["wid"],
        event=event,
        retryNum=3,
    )
    first_try = last_try.model_copy(update={"retryNum": 0})
    queue = Queue()
    assert deliver(first_try, Endpoint(500), queue) == []
    assert [(e.retryNum, delay) for e, delay in queue.delayed] == [(1, 0)]
    for _ in range(PAUSE_AFTER):
        assert deliver(last_try, Endpoint(500), queue) == []
    _, listed = api("GET", f"/workspaces/{workspace['wid']}/apps")
    assert listed["apps"][0]["eventsPaused"] is True
    endpoint = Endpoint()
    deliver(first_try, endpoint, queue)
    assert endpoint.bodies == []  # paused: nothing sent
    status, resumed = api("POST", f"/apps/{app['id']}/events/resume")
    assert status == 200
    assert resumed["app"]["eventsPaused"] is False
    deliver(first_try, endpoint, queue)
    assert [b["type"] for b in endpoint.bodies][-1] == "event_callback"


def test_an_unreadable_envelope_goes_back_to_the_queue(api: Api) -> None:
    from parley.domain import app_delivery

    queued = [app_delivery.QueuedEnvelope("m1", "{not json")]
    assert app_delivery.deliver(queued, Endpoint(), Queue()) == ["m1"]


def test_only_admins_resume(api: Api, workspace: dict[str, str]) -> None:
    app = install(api, workspace["wid"], ["message"])
    assert api("POST", f"/apps/{app['id']}/events/resume", user=BOB)[0] == 403
