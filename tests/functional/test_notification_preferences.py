"""Notification levels per channel and do not disturb (API.md, "Team features"): they decide
what the notifier pushes (SNS) to recipients with no live connection, and nothing else:
notifications are listed and unread and mention counts kept whatever they say. Each
combination of level, do not disturb and kind of message, pushed or not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.functional.conftest import ALICE, BOB, CAROL, Api
from tests.functional.test_notifications import deliver, listed, post, record
from tests.functional.test_reads import channel_counts


class RecordingPush:
    """The push adapter, recording (recipient, type, ts) of each publish."""

    def __init__(self) -> None:
        self.pushed: list[tuple[str, str, str]] = []

    def publish(self, recipient: str, workspace_id: str, notification: Any) -> None:
        self.pushed.append((recipient, notification.type, notification.ts))


@pytest.fixture
def push(monkeypatch: pytest.MonkeyPatch) -> RecordingPush:
    from parley import wiring

    recording = RecordingPush()
    monkeypatch.setattr(wiring, "push", lambda: recording)
    return recording


def level(api: Api, cid: str, value: str, user: str = BOB) -> None:
    status, reply = api("PUT", f"/channels/{cid}/notifications", user=user, body={"level": value})
    assert status == 204, reply


def dnd(api: Api, until: str | None, user: str = BOB) -> None:
    status, reply = api("PUT", "/me/dnd", user=user, body={"until": until})
    assert status == 204, reply


def later(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def sent(api: Api, cid: str, text: str, user: str = ALICE) -> str:
    """Posts and runs the message through the notifier; its ts."""
    ts = post(api, cid, text, user=user)
    assert deliver(record(cid, ts)) == []
    return ts


@pytest.mark.parametrize(
    ("chosen", "mention", "plain"),
    [
        (None, True, False),  # the default is "mentions"
        ("mentions", True, False),
        ("all", True, True),
        ("none", False, False),
    ],
)
def test_each_level_pushes_mentions_and_other_messages_or_not(
    api: Api,
    workspace: dict[str, str],
    push: RecordingPush,
    chosen: str | None,
    mention: bool,
    plain: bool,
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    if chosen is not None:
        level(api, cid, chosen)
    mentioned = sent(api, cid, f"<@{BOB}> look")
    other = sent(api, cid, "nothing for anyone")
    expected = [(BOB, "mention", mentioned)] * mention + [(BOB, "message", other)] * plain
    assert push.pushed == expected
    # Listed and counted whatever the level says.
    assert [n["ts"] for n in listed(api, BOB)["notifications"]] == [mentioned]
    assert channel_counts(api, wid, cid, BOB) == (2, 1)


@pytest.mark.parametrize(("chosen", "pushed"), [(None, True), ("all", True), ("none", False)])
def test_a_dm_is_pushed_unless_its_level_is_none(
    api: Api, workspace: dict[str, str], push: RecordingPush, chosen: str | None, pushed: bool
) -> None:
    _, dm = api("POST", f"/workspaces/{workspace['wid']}/dms", body={"userIds": [BOB]})
    cid = dm["channel"]["id"]
    if chosen is not None:
        level(api, cid, chosen)
    ts = sent(api, cid, "psst")
    assert push.pushed == [(BOB, "dm", ts)] * pushed
    assert [n["ts"] for n in listed(api, BOB)["notifications"]] == [ts]


@pytest.mark.parametrize("chosen", [None, "mentions", "all"])
def test_do_not_disturb_holds_every_push_until_it_ends(
    api: Api, workspace: dict[str, str], push: RecordingPush, chosen: str | None
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    if chosen is not None:
        level(api, cid, chosen)
    dnd(api, later(60))
    held = sent(api, cid, f"<@{BOB}> while away")
    sent(api, cid, "plain, while away")
    assert push.pushed == []
    assert [n["ts"] for n in listed(api, BOB)["notifications"]] == [held]
    assert channel_counts(api, wid, cid, BOB) == (2, 1)
    dnd(api, None)  # ended by hand
    after = sent(api, cid, f"<@{BOB}> back?")
    assert push.pushed == [(BOB, "mention", after)]


def test_do_not_disturb_ends_by_itself_and_a_past_time_ends_it(
    api: Api, workspace: dict[str, str], push: RecordingPush, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = workspace["general"]
    dnd(api, "2020-01-01T00:00:00Z")
    first = sent(api, cid, f"<@{BOB}> one")
    assert push.pushed == [(BOB, "mention", first)]
    dnd(api, later(1))
    sent(api, cid, f"<@{BOB}> two")
    assert len(push.pushed) == 1
    import time as clock

    real = clock.time
    monkeypatch.setattr(clock, "time", lambda: real() + 120)  # the notifier's clock, 2 min on
    third = sent(api, cid, f"<@{BOB}> three")
    assert push.pushed[-1] == (BOB, "mention", third)


def test_do_not_disturb_is_the_callers_own(
    api: Api, workspace: dict[str, str], push: RecordingPush
) -> None:
    _, invite = api("POST", f"/workspaces/{workspace['wid']}/invites")
    assert api("POST", f"/invites/{invite['invite']['code']}/accept", user=CAROL)[0] == 200
    dnd(api, later(60), user=CAROL)
    ts = sent(api, workspace["general"], f"<@{BOB}> <@{CAROL}> both")
    assert push.pushed == [(BOB, "mention", ts)]


def test_a_level_is_per_member_and_channel(
    api: Api, workspace: dict[str, str], push: RecordingPush
) -> None:
    general = workspace["general"]
    _, made = api("POST", f"/workspaces/{workspace['wid']}/channels", body={"name": "random"})
    random = made["channel"]["id"]
    assert api("POST", f"/channels/{random}/join", user=BOB)[0] == 200
    level(api, general, "none")
    level(api, random, "all", user=ALICE)  # Alice's level is hers: Bob's stays the default
    sent(api, general, f"<@{BOB}> muted here")
    loud = sent(api, random, f"<@{BOB}> heard here")
    sent(api, random, "plain here")
    assert push.pushed == [(BOB, "mention", loud)]


def test_an_online_member_is_not_pushed_even_at_level_all(
    api: Api, workspace: dict[str, str], push: RecordingPush, connect: Callable[..., None]
) -> None:
    cid = workspace["general"]
    level(api, cid, "all")
    connect("bob-1", BOB, workspace["wid"])
    sent(api, cid, "Bob sees this live")
    sent(api, cid, "my own message", user=BOB)
    assert push.pushed == []


def test_a_redelivered_message_is_pushed_to_level_all_once(
    api: Api, workspace: dict[str, str], push: RecordingPush
) -> None:
    cid = workspace["general"]
    level(api, cid, "all")
    ts = post(api, cid, "once only")
    assert deliver(record(cid, ts)) == []
    assert deliver(record(cid, ts)) == []
    assert push.pushed == [(BOB, "message", ts)]


def test_going_back_to_mentions_stops_the_pushes_of_other_messages(
    api: Api, workspace: dict[str, str], push: RecordingPush
) -> None:
    cid = workspace["general"]
    level(api, cid, "all")
    level(api, cid, "all")  # setting it again changes nothing
    level(api, cid, "mentions")
    sent(api, cid, "quiet now")
    assert push.pushed == []


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/channels/{cid}/notifications", {"level": "loud"}, 422),
        ("/channels/{cid}/notifications", {}, 422),
        ("/channels/{cid}/notifications", {"level": None}, 422),
        ("/me/dnd", {}, 422),
        ("/me/dnd", {"until": "tomorrow"}, 422),
        ("/me/dnd", {"until": [2026]}, 422),
    ],
)
def test_bad_input_is_a_4xx(
    api: Api, workspace: dict[str, str], path: str, body: dict[str, Any], status: int
) -> None:
    got, reply = api("PUT", path.format(cid=workspace["general"]), user=BOB, body=body)
    assert got == status, reply
    assert reply["error"]["code"] == "invalid_request"


def test_only_members_set_a_channels_level(api: Api, workspace: dict[str, str]) -> None:
    wid = workspace["wid"]
    _, made = api("POST", f"/workspaces/{wid}/channels", body={"name": "ops", "private": True})
    private = made["channel"]["id"]
    body = {"level": "all"}
    assert api("PUT", f"/channels/{private}/notifications", user=BOB, body=body)[0] == 404
    _, made = api("POST", f"/workspaces/{wid}/channels", body={"name": "news"})
    public = made["channel"]["id"]
    assert api("PUT", f"/channels/{public}/notifications", user=BOB, body=body)[0] == 403
    assert api("PUT", f"/channels/{public}/notifications", user=CAROL, body=body)[0] == 404
