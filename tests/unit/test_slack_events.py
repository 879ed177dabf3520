"""The Events API in Slack's shapes (parley.slack.events): each event as Slack's pages show
it, which subscription and scope deliver it, and an unchanged Bolt app that accepts the
deliveries and calls its listeners. Pure code: Bolt is driven in process."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, get_args

import pytest
from slack_bolt import App, BoltRequest
from slack_bolt.authorization import AuthorizeResult

from parley.apps import delivery
from parley.apps.changes import ChannelEvent, channel_events
from parley.apps.delivery import Envelope, Outcome, Reply, Subscriber
from parley.edge.schemas import APP_EVENT_TYPES, AppEventType
from parley.slack import events as slack_events
from parley.slack.events import Subscription, render, subscription

NOW_TS = "1764290000.000042"
MESSAGE = {
    "PK": "CH#C1",
    "SK": "MSG#1764288000.000100",
    "workspaceId": "W1",
    "channelId": "C1",
    "ts": "1764288000.000100",
    "userId": "U1",
    "text": "hello",
    "version": 1,
}
MEMBER = {
    "PK": "CH#C1",
    "SK": "MEMBER#U2",
    "workspaceId": "W1",
    "channelId": "C1",
    "userId": "U2",
    "joinedAt": "2025-11-28T00:00:00.000Z",
}


def only(events: list[ChannelEvent], kind: str) -> ChannelEvent:
    [event] = [e for e in events if e.kind == kind]
    return event


def shape(
    event: ChannelEvent, channel_type: str = "public", parent: str | None = None
) -> dict[str, Any]:
    return render(event, channel_type, parent_user_id=parent, now_ts=NOW_TS)


# ---------------------------------------------------------------- shapes


def test_a_message_has_slacks_fields() -> None:
    [event] = channel_events("INSERT", MESSAGE, None)
    assert shape(event) == {
        "type": "message",
        "channel": "C1",
        "user": "U1",
        "text": "hello",
        "ts": "1764288000.000100",
        "event_ts": "1764288000.000100",
        "channel_type": "channel",
        "team": "W1",
    }


@pytest.mark.parametrize(
    ("parley_type", "slack_type"),
    [("public", "channel"), ("private", "group"), ("dm", "im"), ("group_dm", "mpim")],
)
def test_channel_type_is_slacks_name_for_the_channels_type(
    parley_type: str, slack_type: str
) -> None:
    [event] = channel_events("INSERT", MESSAGE, None)
    assert shape(event, parley_type)["channel_type"] == slack_type


def test_a_reply_names_its_thread_and_the_threads_author() -> None:
    reply = {**MESSAGE, "threadTs": "1764287000.000001", "clientMsgId": "c-1"}
    [event] = channel_events("INSERT", reply, None)
    body = shape(event, parent="U9")
    assert (body["thread_ts"], body["parent_user_id"]) == ("1764287000.000001", "U9")
    assert body["client_msg_id"] == "c-1"
    top = shape(channel_events("INSERT", MESSAGE, None)[0], parent=None)
    assert "thread_ts" not in top
    assert "parent_user_id" not in top


def test_a_bots_message_carries_bot_id_and_app_id_and_a_webhooks_is_a_bot_message() -> None:
    posted = {**MESSAGE, "userId": "B1", "appId": "A1"}
    body = shape(channel_events("INSERT", posted, None)[0])
    assert (body["user"], body["bot_id"], body["app_id"]) == ("B1", "B1", "A1")
    assert "subtype" not in body
    hooked = {**posted, "subtype": "bot_message"}
    body = shape(channel_events("INSERT", hooked, None)[0])
    assert (body["subtype"], body["bot_id"], body["app_id"]) == ("bot_message", "B1", "A1")
    assert "user" not in body  # Slack's bot_message names the bot, not a user


def test_blocks_are_the_items_json_list() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    image = {**MESSAGE, "blocks": json.dumps(blocks)}
    assert shape(channel_events("INSERT", image, None)[0])["blocks"] == blocks
    assert "blocks" not in shape(channel_events("INSERT", MESSAGE, None)[0])


def test_an_edit_is_a_hidden_message_changed_with_both_versions() -> None:
    new = {**MESSAGE, "text": "hello!", "editedTs": "1764288100.000001", "version": 2}
    body = shape(only(channel_events("MODIFY", new, MESSAGE), "message_changed"), "private")
    assert body == {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": "C1",
        "channel_type": "group",
        "ts": "1764288100.000001",
        "event_ts": "1764288100.000001",
        "message": {
            "type": "message",
            "user": "U1",
            "text": "hello!",
            "ts": "1764288000.000100",
            "team": "W1",
            "edited": {"user": "U1", "ts": "1764288100.000001"},
        },
        "previous_message": {
            "type": "message",
            "user": "U1",
            "text": "hello",
            "ts": "1764288000.000100",
            "team": "W1",
        },
    }


def test_a_deletion_is_a_hidden_message_deleted_with_the_message_it_was() -> None:
    [event] = channel_events("REMOVE", None, MESSAGE)
    body = shape(event, "dm")
    assert body == {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": "C1",
        "channel_type": "im",
        "ts": NOW_TS,
        "event_ts": NOW_TS,
        "deleted_ts": "1764288000.000100",
        "previous_message": {
            "type": "message",
            "user": "U1",
            "text": "hello",
            "ts": "1764288000.000100",
            "team": "W1",
        },
    }


def test_an_app_mention_is_the_message_as_app_mention() -> None:
    image = {**MESSAGE, "text": "<@B1> deploy", "mentions": {"B1"}}
    body = shape(only(channel_events("INSERT", image, None), "app_mention"))
    assert body == {
        "type": "app_mention",
        "user": "U1",
        "text": "<@B1> deploy",
        "ts": "1764288000.000100",
        "channel": "C1",
        "event_ts": "1764288000.000100",
        "team": "W1",
    }


@pytest.mark.parametrize("kind", ["reaction_added", "reaction_removed"])
def test_reactions_name_the_item_and_its_author(kind: str) -> None:
    with_reaction = {**MESSAGE, "version": 2, "reactions": [{"name": "eyes", "users": ["U2"]}]}
    new, old = (with_reaction, MESSAGE) if kind == "reaction_added" else (MESSAGE, with_reaction)
    body = shape(only(channel_events("MODIFY", new, old), kind))
    assert body == {
        "type": kind,
        "user": "U2",
        "reaction": "eyes",
        "item": {"type": "message", "channel": "C1", "ts": "1764288000.000100"},
        "item_user": "U1",
        "event_ts": NOW_TS,
    }


@pytest.mark.parametrize(
    ("channel_type", "letter"), [("public", "C"), ("private", "G"), ("group_dm", "G")]
)
def test_member_events_have_slacks_fields(channel_type: str, letter: str) -> None:
    [joined] = channel_events("INSERT", MEMBER, None)
    [left] = channel_events("REMOVE", None, MEMBER)
    assert shape(joined, channel_type) == {
        "type": "member_joined_channel",
        "user": "U2",
        "channel": "C1",
        "channel_type": letter,
        "team": "W1",
        "event_ts": "1764288000.000000",
    }
    assert shape(left, channel_type) == {
        "type": "member_left_channel",
        "user": "U2",
        "channel": "C1",
        "channel_type": letter,
        "team": "W1",
        "event_ts": NOW_TS,
    }


def test_a_channel_created_has_its_id_name_creation_and_creator() -> None:
    meta = {
        "PK": "CH#C9",
        "SK": "META",
        "workspaceId": "W1",
        "channelId": "C9",
        "name": "launch",
        "type": "public",
        "createdBy": "U1",
        "createdAt": "2025-11-28T00:00:01.500Z",
    }
    [event] = channel_events("INSERT", meta, None)
    assert shape(event) == {
        "type": "channel_created",
        "channel": {"id": "C9", "name": "launch", "created": 1764288001, "creator": "U1"},
        "event_ts": "1764288001.500000",
    }


# ---------------------------------------------------------------- subscriptions


@pytest.mark.parametrize(
    ("kind", "channel_type", "expected"),
    [
        ("message", "public", Subscription("message.channels", "channels:history", "message")),
        ("message", "private", Subscription("message.groups", "groups:history", "message")),
        ("message", "dm", Subscription("message.im", "im:history", "message")),
        ("message", "group_dm", Subscription("message.mpim", "mpim:history", "message")),
        (
            "message_changed",
            "public",
            Subscription("message.channels", "channels:history", "message_changed"),
        ),
        (
            "message_deleted",
            "dm",
            Subscription("message.im", "im:history", "message_deleted"),
        ),
        ("app_mention", "private", Subscription("app_mention", "app_mentions:read", None)),
        (
            "reaction_added",
            "dm",
            Subscription("reaction_added", "reactions:read", "reaction_added"),
        ),
        (
            "reaction_removed",
            "public",
            Subscription("reaction_removed", "reactions:read", "reaction_removed"),
        ),
        (
            "member_joined_channel",
            "public",
            Subscription("member_joined_channel", "channels:read", "member_joined_channel"),
        ),
        (
            "member_joined_channel",
            "private",
            Subscription("member_joined_channel", "groups:read", "member_joined_channel"),
        ),
        (
            "member_left_channel",
            "group_dm",
            Subscription("member_left_channel", "mpim:read", None),
        ),
        (
            "channel_created",
            "public",
            Subscription("channel_created", "channels:read", "channel_created"),
        ),
        ("member_joined_channel", "dm", None),
        ("member_left_channel", "dm", None),
        ("channel_created", "private", None),
    ],
)
def test_each_event_has_slacks_subscription_scope_and_its_old_name(
    kind: Any, channel_type: str, expected: Subscription | None
) -> None:
    assert subscription(kind, channel_type) == expected


def test_apps_subscribe_by_slacks_names_and_the_old_ones() -> None:
    names = set(get_args(AppEventType))
    assert names == set(slack_events.SUBSCRIPTIONS) | set(slack_events.LEGACY_SUBSCRIPTIONS)
    assert len(names) == APP_EVENT_TYPES


# ---------------------------------------------------------------- an unchanged Bolt app

SECRET = "b0175ec2e7" * 4
BOT = "B0BOLT0001"


class BoltEndpoint:
    """An HttpPoster that hands each request to a Bolt app, as its HTTP adapters do."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.replies: list[int] = []

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Reply:
        request = BoltRequest(body=body.decode(), headers=dict(headers))
        response = self.app.dispatch(request)
        self.replies.append(response.status)
        content_type = (response.headers.get("content-type") or [""])[0].split(";")[0]
        return Reply(response.status, response.body.encode(), content_type)


class NoRequeue:
    def send_delayed(self, body: str, delay_seconds: int) -> None:
        raise AssertionError(f"Bolt refused a delivery: {body}")


class State:
    def url_verified(self, app_id: str, url: str) -> None:
        pass

    def delivered(self, app_id: str) -> None:
        pass

    def lost(self, app_id: str) -> int:
        raise AssertionError("lost")

    def pause(self, app_id: str, reason: str) -> None:
        raise AssertionError("paused")


@pytest.fixture
def bolt() -> tuple[App, dict[str, list[dict[str, Any]]], BoltEndpoint]:
    """A Bolt app as written for Slack (its token and bot resolved by `authorize`, as Bolt
    would from auth.test), with listeners that record what they hear."""

    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token="xoxb-unit",
            bot_id=BOT,
            bot_user_id=BOT,
        )

    app = App(signing_secret=SECRET, authorize=authorize, process_before_response=True)
    heard: dict[str, list[dict[str, Any]]] = {}

    def record(name: str) -> Any:
        def listener(event: dict[str, Any], ack: Any) -> None:
            heard.setdefault(name, []).append(event)

        return listener

    app.message("hello")(record("message hello"))
    app.event({"type": "message", "subtype": "message_changed"})(record("message_changed"))
    app.event("reaction_added")(record("reaction_added"))
    app.event("app_mention")(record("app_mention"))
    app.event("member_joined_channel")(record("member_joined_channel"))
    return app, heard, BoltEndpoint(app)


def deliver_to_bolt(endpoint: BoltEndpoint, event: ChannelEvent, verified: bool = True) -> None:
    envelope = Envelope(
        appId="A1",
        eventId=event.event_id,
        eventTime=1764288000,
        workspaceId="W1",
        event=shape(event),
    )
    app = Subscriber("A1", BOT, "https://bolt.example.com/slack/events", SECRET, None, False)
    if verified:
        app = Subscriber("A1", BOT, app.events_url, SECRET, app.events_url, False)
    outcome = delivery.deliver(envelope, app, endpoint, NoRequeue(), State())
    assert outcome is Outcome.DELIVERED


def test_bolt_answers_parleys_challenge_and_hears_its_messages(bolt: Any) -> None:
    _, heard, endpoint = bolt
    [message] = channel_events("INSERT", {**MESSAGE, "text": "hello bolt"}, None)
    deliver_to_bolt(endpoint, message, verified=False)
    assert endpoint.replies == [200, 200]  # the challenge, then the event
    [event] = heard["message hello"]
    assert (event["channel"], event["user"], event["text"]) == ("C1", "U1", "hello bolt")


def test_bolt_hears_reactions_edits_mentions_and_joins(bolt: Any) -> None:
    _, heard, endpoint = bolt
    reacted = {**MESSAGE, "version": 2, "reactions": [{"name": "tada", "users": ["U2"]}]}
    edited = {**MESSAGE, "text": "hello!", "editedTs": "1764288100.000001", "version": 2}
    mention = {**MESSAGE, "text": f"<@{BOT}> ship it", "mentions": {BOT}}
    for event in (
        only(channel_events("MODIFY", reacted, MESSAGE), "reaction_added"),
        only(channel_events("MODIFY", edited, MESSAGE), "message_changed"),
        only(channel_events("INSERT", mention, None), "app_mention"),
        only(channel_events("INSERT", MEMBER, None), "member_joined_channel"),
    ):
        deliver_to_bolt(endpoint, event)
    assert heard["reaction_added"][0]["reaction"] == "tada"
    assert heard["message_changed"][0]["message"]["text"] == "hello!"
    assert heard["app_mention"][0]["text"] == f"<@{BOT}> ship it"
    assert heard["member_joined_channel"][0]["user"] == "U2"


def test_bolt_ignores_its_own_bots_message_by_its_bot_id(bolt: Any) -> None:
    """Parley never sends an app what its own bot did; were it sent, `bot_id` and `user`
    are the ones Bolt compares with its own, so it would be dropped, not echoed."""
    _, heard, endpoint = bolt
    own = {**MESSAGE, "userId": BOT, "appId": "A1", "text": "hello from me"}
    hooked = {**own, "subtype": "bot_message"}
    for image in (own, hooked):
        deliver_to_bolt(endpoint, channel_events("INSERT", image, None)[0])
    assert endpoint.replies == [200, 200]  # acknowledged
    assert "message hello" not in heard
    other = {**own, "userId": "B2", "appId": "A2", "subtype": "bot_message"}
    deliver_to_bolt(endpoint, channel_events("INSERT", other, None)[0])
    assert [e["bot_id"] for e in heard["message hello"]] == ["B2"]


def test_bolt_refuses_a_delivery_signed_with_another_secret(bolt: Any) -> None:
    _, _, endpoint = bolt
    [message] = channel_events("INSERT", MESSAGE, None)
    envelope = Envelope(
        appId="A1", eventId="Ev1", eventTime=1, workspaceId="W1", event=shape(message)
    )
    url = "https://bolt.example.com/slack/events"
    app = Subscriber("A1", BOT, url, "not the secret", url, False)

    class Requeue:
        def __init__(self) -> None:
            self.sent: list[str] = []

        def send_delayed(self, body: str, delay_seconds: int) -> None:
            self.sent.append(body)

    requeue = Requeue()
    outcome = delivery.deliver(envelope, app, endpoint, requeue, State())
    assert outcome is Outcome.RETRY_SCHEDULED
    assert Envelope.model_validate_json(requeue.sent[0]).retryReason == "http_error"
    assert endpoint.replies == [401]
