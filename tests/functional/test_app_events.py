"""The Events API against the table: which app hears which change (subscriptions by
Slack's names and the old ones, the scope each needs, the bot's channels, mentions), what
the queued event says (Slack's shape, the channel's type and the thread's author looked
up), and what delivery records (verified URL, failures, pausing, resuming)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from parley.apps.delivery import PAUSE_AFTER, Envelope, Reply
from parley.slack.events import SUBSCRIPTIONS
from parley.streams import StreamRecord
from tests.functional.conftest import ALICE, BOB, Api

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

    def heard(self, app: dict[str, Any]) -> list[dict[str, Any]]:
        return [e.event for e in self.sent if e.appId == app["id"]]


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
    api: Api,
    wid: str,
    events: list[str],
    scopes: list[str] | None = None,
    channel: str | None = None,
    *,
    legacy: bool = False,
) -> dict[str, Any]:
    """An app subscribed to `events`, its bot added to `channel`; `legacy`: as apps made
    before Slack's scope names were (no scopeNames on the item)."""
    from parley.adapters.dynamodb.apps import app_key
    from parley.adapters.dynamodb.items import AppItem

    body = {"name": "CI", "scopes": scopes or ["chat:write"], "eventsUrl": URL, "events": events}
    status, created = api("POST", f"/workspaces/{wid}/apps", body=body)
    assert status == 201, created
    app: dict[str, Any] = created["app"]
    if legacy:
        AppItem(*app_key(app["id"])).update(actions=[AppItem.scopeNames.remove()])
    if channel:
        status, _ = api(
            "POST", f"/channels/{channel}/members", body={"userIds": [app["botUserId"]]}
        )
        assert status == 200
    return app


def new_channel(api: Api, wid: str, name: str, private: bool = False) -> str:
    status, made = api(
        "POST", f"/workspaces/{wid}/channels", body={"name": name, "private": private}
    )
    assert status == 201, made
    return str(made["channel"]["id"])


def message_image(wid: str, cid: str, user: str, seq: int = 1, **rest: Any) -> dict[str, Any]:
    ts = f"1764288000.{seq:06d}"
    return {
        "PK": f"CH#{cid}",
        "SK": f"MSG#{ts}",
        "workspaceId": wid,
        "channelId": cid,
        "ts": ts,
        "userId": user,
        "text": "hi",
        "version": 1,
        **rest,
    }


def message_record(wid: str, cid: str, user: str, seq: int = 1, **rest: Any) -> StreamRecord:
    return StreamRecord(str(seq), "INSERT", message_image(wid, cid, user, seq, **rest), None)


def forward(records: list[StreamRecord]) -> Queue:
    from parley.domain import app_events

    queue = Queue()
    assert app_events.forward(records, queue) is None
    return queue


def test_an_app_hears_subscribed_events_only_from_channels_its_bot_is_in(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    app = install(api, wid, ["message.channels"], ["channels:history"])
    other = new_channel(api, wid, "random")
    assert forward([message_record(wid, general, ALICE)]).sent == []  # bot not in #general
    api("POST", f"/channels/{general}/members", body={"userIds": [app["botUserId"]]})
    queue = forward(
        [
            message_record(wid, general, ALICE, 1),
            message_record(wid, other, ALICE, 2),
            message_record(wid, general, app["botUserId"], 3, appId=app["id"]),  # its own echo
        ]
    )
    [envelope] = queue.sent
    assert (envelope.appId, envelope.workspaceId) == (app["id"], wid)
    assert envelope.event == {
        "type": "message",
        "channel": general,
        "user": ALICE,
        "text": "hi",
        "ts": "1764288000.000001",
        "event_ts": "1764288000.000001",
        "channel_type": "channel",
        "team": wid,
    }


def test_unsubscribed_types_and_paused_apps_hear_nothing(
    api: Api, workspace: dict[str, str]
) -> None:
    from parley.adapters.dynamodb import apps as app_store

    wid, general = workspace["wid"], workspace["general"]
    install(api, wid, ["reaction_added"], ["reactions:read", "channels:history"], general)
    assert forward([message_record(wid, general, BOB)]).sent == []
    subscribed = install(api, wid, ["message.channels"], ["channels:history"], general)
    app_store.pause_events(subscribed["id"], "testing")
    assert forward([message_record(wid, general, BOB)]).sent == []


def test_each_subscription_needs_its_slack_scope_and_its_kind_of_channel(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    public, private = new_channel(api, wid, "ops"), new_channel(api, wid, "sec", private=True)
    channels_reader = install(api, wid, ["message.channels"], ["channels:history"], public)
    api("POST", f"/channels/{private}/members", body={"userIds": [channels_reader["botUserId"]]})
    groups_reader = install(api, wid, ["message.groups"], ["groups:history"], public)
    api("POST", f"/channels/{private}/members", body={"userIds": [groups_reader["botUserId"]]})
    unscoped = install(api, wid, ["message.channels", "message.groups"], ["chat:write"], public)
    api("POST", f"/channels/{private}/members", body={"userIds": [unscoped["botUserId"]]})
    queue = forward([message_record(wid, public, ALICE, 1), message_record(wid, private, ALICE, 2)])
    assert [(e["channel"], e["channel_type"]) for e in queue.heard(channels_reader)] == [
        (public, "channel")
    ]
    assert [(e["channel"], e["channel_type"]) for e in queue.heard(groups_reader)] == [
        (private, "group")
    ]
    assert queue.heard(unscoped) == []


def test_a_dm_message_is_an_im_message_to_a_bot_with_im_history(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    app = install(api, wid, ["message.im"], ["im:history"])
    status, dm = api("POST", f"/workspaces/{wid}/dms", body={"userIds": [app["botUserId"]]})
    assert status == 200, dm
    cid = dm["channel"]["id"]
    [event] = forward([message_record(wid, cid, ALICE)]).heard(app)
    assert (event["channel"], event["channel_type"], event["user"]) == (cid, "im", ALICE)


def test_a_reply_carries_its_threads_ts_and_author(api: Api, workspace: dict[str, str]) -> None:
    wid, general = workspace["wid"], workspace["general"]
    app = install(api, wid, ["message.channels"], ["channels:history"], general)
    status, parent = api("POST", f"/channels/{general}/messages", user=BOB, body={"text": "q?"})
    assert status == 201, parent
    thread_ts = parent["message"]["ts"]
    reply = message_record(wid, general, ALICE, threadTs=thread_ts)
    [event] = forward([reply]).heard(app)
    assert (event["thread_ts"], event["parent_user_id"]) == (thread_ts, BOB)


def test_an_app_mention_reaches_only_the_apps_whose_bot_is_mentioned(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    scopes = ["app_mentions:read", "channels:history"]
    events = ["app_mention", "message.channels"]
    mentioned = install(api, wid, events, scopes, general)
    bystander = install(api, wid, events, scopes, general)
    unscoped = install(api, wid, ["app_mention"], ["chat:write"], general)
    bots = {mentioned["botUserId"], unscoped["botUserId"]}
    text = " ".join(f"<@{bot}>" for bot in sorted(bots)) + " deploy"
    queue = forward([message_record(wid, general, ALICE, text=text, mentions=bots)])
    assert [e["type"] for e in queue.heard(mentioned)] == ["message", "app_mention"]
    assert [e["type"] for e in queue.heard(bystander)] == ["message"]
    assert queue.heard(unscoped) == []
    mention = queue.heard(mentioned)[1]
    assert (mention["user"], mention["text"], mention["channel"]) == (ALICE, text, general)


def test_reactions_and_edits_reach_apps_with_their_scopes(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    reactions = install(api, wid, ["reaction_added"], ["reactions:read"], general)
    history = install(api, wid, ["message.channels"], ["channels:history"], general)
    without = install(api, wid, ["reaction_added"], ["reactions:write"], general)
    old = message_image(wid, general, ALICE)
    new = {
        **old,
        "text": "hi!",
        "editedTs": "1764288100.000001",
        "version": 2,
        "reactions": [{"name": "eyes", "users": [BOB]}],
    }
    queue = forward([StreamRecord("1", "MODIFY", new, old)])
    [reaction] = queue.heard(reactions)
    assert (reaction["type"], reaction["user"], reaction["reaction"]) == (
        "reaction_added",
        BOB,
        "eyes",
    )
    assert reaction["item"] == {"type": "message", "channel": general, "ts": old["ts"]}
    [edit] = queue.heard(history)
    assert (edit["subtype"], edit["message"]["text"]) == ("message_changed", "hi!")
    assert queue.heard(without) == []


def test_members_joining_and_leaving_reach_apps_in_the_channel(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    app = install(
        api, wid, ["member_joined_channel", "member_left_channel"], ["channels:read"], general
    )
    member = {
        "PK": f"CH#{general}",
        "SK": f"MEMBER#{BOB}",
        "workspaceId": wid,
        "channelId": general,
        "userId": BOB,
        "joinedAt": "2025-11-28T00:00:00.000Z",
    }
    own = {**member, "SK": f"MEMBER#{app['botUserId']}", "userId": app["botUserId"]}
    queue = forward(
        [
            StreamRecord("1", "INSERT", member, None),
            StreamRecord("2", "REMOVE", None, member),
            StreamRecord("3", "INSERT", own, None),  # its own bot joining: its own doing
        ]
    )
    assert [(e["type"], e["user"], e["channel_type"]) for e in queue.heard(app)] == [
        ("member_joined_channel", BOB, "C"),
        ("member_left_channel", BOB, "C"),
    ]


def test_a_public_channel_created_reaches_apps_that_may_read_channels(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    reader = install(api, wid, ["channel_created"], ["channels:read"])
    install(api, wid, ["channel_created"], ["chat:write"])
    install(api, wid, ["channel_created"], ["chat:write"], legacy=True)
    meta = {
        "PK": "CH#C9",
        "SK": "META",
        "workspaceId": wid,
        "channelId": "C9",
        "name": "launch",
        "type": "public",
        "createdBy": ALICE,
        "createdAt": "2025-11-28T00:00:00.000Z",
    }
    queue = forward([StreamRecord("1", "INSERT", meta, None)])
    assert [e.appId for e in queue.sent] == [reader["id"]]
    assert queue.sent[0].event["channel"] == {
        "id": "C9",
        "name": "launch",
        "created": 1764288000,
        "creator": ALICE,
    }
    private = {**meta, "type": "private"}
    assert forward([StreamRecord("2", "INSERT", private, None)]).sent == []


def test_apps_made_before_slacks_names_hear_their_old_subscriptions_as_before(
    api: Api, workspace: dict[str, str]
) -> None:
    """Their events needed no scope: `message` is every new message wherever the bot is,
    `message_changed` an edit; a new app naming the old subscriptions needs the scopes."""
    wid, general = workspace["wid"], workspace["general"]
    private = new_channel(api, wid, "old-private", private=True)
    old_messages = install(api, wid, ["message", "reaction_added"], channel=general, legacy=True)
    api("POST", f"/channels/{private}/members", body={"userIds": [old_messages["botUserId"]]})
    old_edits = install(api, wid, ["message_changed"], channel=general, legacy=True)
    new_app = install(api, wid, ["message", "message_changed"], channel=general)
    scoped = install(api, wid, ["message"], ["channels:history"], general)
    old = message_image(wid, general, ALICE, 1)
    edited = {**old, "text": "edited", "editedTs": "1764288100.000001", "version": 2}
    reacted = {**edited, "version": 3, "reactions": [{"name": "eyes", "users": [BOB]}]}
    queue = forward(
        [
            StreamRecord("1", "INSERT", old, None),
            message_record(wid, private, BOB, 2),
            StreamRecord("3", "MODIFY", edited, old),
            StreamRecord("4", "MODIFY", reacted, edited),
        ]
    )
    kinds = [(e["type"], e.get("subtype"), e.get("channel")) for e in queue.heard(old_messages)]
    assert kinds == [
        ("message", None, general),
        ("message", None, private),
        ("reaction_added", None, None),
    ]
    assert [e.get("subtype") for e in queue.heard(old_edits)] == ["message_changed"]
    assert queue.heard(new_app) == []
    assert [e["ts"] for e in queue.heard(scoped)] == [old["ts"]]  # new messages only


def deliver(envelope: Envelope, endpoint: Endpoint, queue: Queue) -> list[str]:
    from parley.domain import app_delivery

    queued = [app_delivery.QueuedEnvelope("m1", envelope.model_dump_json())]
    return app_delivery.deliver(queued, endpoint, queue)


def an_envelope(app: dict[str, Any], workspace: dict[str, str], retry: int = 0) -> Envelope:
    event = {"type": "message", "channel": workspace["general"], "ts": "1", "text": "hi"}
    return Envelope(
        appId=app["id"],
        eventId="Ev1",
        eventTime=1,
        workspaceId=workspace["wid"],
        event=event,
        retryNum=retry,
    )


def test_delivery_verifies_the_url_once_then_posts_as_the_apps_bot(
    api: Api, workspace: dict[str, str]
) -> None:
    from parley.adapters.dynamodb import apps as app_store

    app = install(api, workspace["wid"], ["message.channels"], ["channels:history"])
    endpoint = Endpoint()
    assert deliver(an_envelope(app, workspace), endpoint, Queue()) == []
    assert deliver(an_envelope(app, workspace), endpoint, Queue()) == []
    assert [b["type"] for b in endpoint.bodies] == [
        "url_verification",
        "event_callback",
        "event_callback",
    ]
    sent = endpoint.bodies[1]
    assert (sent["api_app_id"], sent["team_id"]) == (app["id"], workspace["wid"])
    assert sent["authorizations"][0]["user_id"] == app["botUserId"]
    stored = app_store.get_app(app["id"])
    assert stored is not None
    assert stored.eventsVerifiedUrl == URL


def test_a_failing_subscription_is_paused_and_an_admin_resumes_it(
    api: Api, workspace: dict[str, str]
) -> None:
    app = install(api, workspace["wid"], ["message.channels"], ["channels:history"])
    first_try, last_try = an_envelope(app, workspace), an_envelope(app, workspace, retry=3)
    queue = Queue()
    assert deliver(first_try, Endpoint(500), queue) == []
    assert [(e.retryNum, e.retryReason, delay) for e, delay in queue.delayed] == [
        (1, "http_error", 0)
    ]
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
    app = install(api, workspace["wid"], ["message.channels"], ["channels:history"])
    assert api("POST", f"/apps/{app['id']}/events/resume", user=BOB)[0] == 403


def test_apps_subscribe_by_slacks_names_and_unknown_names_are_refused(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    body = {"name": "CI", "scopes": ["chat:write"], "events": ["message.everything"]}
    status, reply = api("POST", f"/workspaces/{wid}/apps", body=body)
    assert status == 422, reply
    every = list(SUBSCRIPTIONS)
    status, created = api("POST", f"/workspaces/{wid}/apps", body={**body, "events": every})
    assert status == 201, created
    assert created["app"]["events"] == sorted(every)
