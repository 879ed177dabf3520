"""Scheduled messages and reminders (API.md, "Team features"): the routes, the one-time
schedules they make in moto's EventBridge Scheduler, and the poster function they invoke."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local.scheduler import read_schedule
from tests.functional.conftest import (
    ALICE,
    BOB,
    CAROL,
    SCHEDULE_GROUP,
    Api,
    Context,
    RecordingPoster,
    load_function,
)


def ahead(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def schedules() -> dict[str, dict[str, Any]]:
    scheduler = boto3.client("scheduler")
    listed = scheduler.list_schedules(GroupName=SCHEDULE_GROUP)["Schedules"]
    return {
        s["Name"]: scheduler.get_schedule(GroupName=SCHEDULE_GROUP, Name=s["Name"]) for s in listed
    }


def fire(name: str) -> dict[str, str]:
    """What Scheduler does at the schedule's time: the poster invoked with its Input."""
    schedule = read_schedule(schedules()[name])
    reply: dict[str, str] = load_function("scheduled_poster").lambda_handler(
        schedule.input, Context()
    )
    return reply


def schedule(api: Api, cid: str, user: str = ALICE, **body: Any) -> tuple[int, Any]:
    body = {"text": "stand-up in five", "postAt": ahead(minutes=2), **body}
    return api("POST", f"/channels/{cid}/scheduled", user=user, body=body)


def test_a_scheduled_message_is_a_one_time_schedule_posted_as_its_author(
    api: Api, workspace: dict[str, str]
) -> None:
    cid = workspace["general"]
    day = (datetime.now(UTC) + timedelta(days=10)).date()
    status, created = schedule(api, cid, postAt=f"{day}T03:04:05.5+01:00")
    assert status == 201, created
    scheduled = created["scheduled"]
    assert set(scheduled) == {"id", "channelId", "text", "postAt", "threadTs"}
    assert (scheduled["channelId"], scheduled["postAt"]) == (cid, f"{day}T02:04:05.500Z")
    made = schedules()[scheduled["id"]]
    # Never early: the whole second after postAt, deleted by Scheduler once it ran.
    assert made["ScheduleExpression"] == f"at({day}T02:04:06)"
    assert made["ActionAfterCompletion"] == "DELETE"
    assert made["Target"]["Arn"].endswith(":function:parley-unit-poster")
    assert made["Target"]["RoleArn"].endswith(":role/parley-unit-scheduler")
    assert api("GET", "/me/scheduled")[1]["scheduled"] == [scheduled]
    assert api("GET", "/me/scheduled", user=BOB)[1]["scheduled"] == []

    assert fire(scheduled["id"]) == {"outcome": "posted"}
    [message] = api("GET", f"/channels/{cid}/messages")[1]["messages"]
    assert (message["userId"], message["text"]) == (ALICE, "stand-up in five")
    assert api("GET", "/me/scheduled")[1]["scheduled"] == []  # posted: no longer pending
    assert fire(scheduled["id"]) == {"outcome": "gone"}  # a redelivery posts nothing twice
    assert len(api("GET", f"/channels/{cid}/messages")[1]["messages"]) == 1


def test_the_post_reaches_the_channels_live_connections(
    api: Api, workspace: dict[str, str], connect: Any, poster: RecordingPoster
) -> None:
    connect("conn-bob", BOB, workspace["wid"])
    sid = schedule(api, workspace["general"])[1]["scheduled"]["id"]
    fire(sid)
    [event] = poster.events("conn-bob", "message")
    assert event["message"]["text"] == "stand-up in five"


def test_a_reply_in_a_thread_is_scheduled_into_it(api: Api, workspace: dict[str, str]) -> None:
    cid = workspace["general"]
    parent = api("POST", f"/channels/{cid}/messages", body={"text": "plan"})[1]["message"]
    assert schedule(api, cid, threadTs="1732698061.000100")[0] == 404  # no such thread
    sid = schedule(api, cid, threadTs=parent["ts"])[1]["scheduled"]["id"]
    fire(sid)
    [reply] = api("GET", f"/channels/{cid}/messages/{parent['ts']}/replies")[1]["messages"]
    assert reply["text"] == "stand-up in five"


@pytest.mark.parametrize(
    ("post_at", "status"),
    [
        (lambda: ahead(seconds=30), 400),  # less than a minute ahead
        (lambda: ahead(minutes=-5), 400),
        (lambda: ahead(days=121), 400),
        (lambda: ahead(days=119), 201),
        (lambda: "tomorrow", 422),
        (lambda: None, 422),
    ],
)
def test_post_at_is_one_minute_to_120_days_ahead(
    api: Api, workspace: dict[str, str], post_at: Any, status: int
) -> None:
    got, reply = schedule(api, workspace["general"], postAt=post_at())
    assert got == status, reply
    if status >= 400:
        assert reply["error"]["code"] == "invalid_request"
        assert schedules() == {}


def test_only_members_schedule_and_only_the_author_cancels(
    api: Api, workspace: dict[str, str]
) -> None:
    cid = workspace["general"]
    assert schedule(api, cid, user=CAROL)[0] == 404  # not in the workspace
    assert schedule(api, "C0000000999")[0] == 404
    assert schedule(api, cid, text="")[0] == 400
    sid = schedule(api, cid)[1]["scheduled"]["id"]
    assert api("DELETE", f"/scheduled/{sid}", user=BOB)[0] == 404
    assert api("DELETE", f"/scheduled/{sid}")[0] == 204
    assert schedules() == {}  # the schedule is deleted with it
    assert api("GET", "/me/scheduled")[1]["scheduled"] == []
    assert api("DELETE", f"/scheduled/{sid}")[0] == 404
    assert api("DELETE", f"/scheduled/{'Q' * 2000}")[0] == 404  # no key of ours
    assert api("DELETE", f"/reminders/{'R' * 2000}")[0] == 404


def test_a_schedule_that_outlived_its_cancel_posts_nothing(
    api: Api, workspace: dict[str, str]
) -> None:
    cid = workspace["general"]
    sid = schedule(api, cid)[1]["scheduled"]["id"]
    payload = read_schedule(schedules()[sid]).input
    api("DELETE", f"/scheduled/{sid}")
    reply = load_function("scheduled_poster").lambda_handler(payload, Context())
    assert reply == {"outcome": "gone"}
    assert api("GET", f"/channels/{cid}/messages")[1]["messages"] == []


def test_an_author_who_left_the_channel_is_told_and_nothing_is_posted(
    api: Api, workspace: dict[str, str], connect: Any, poster: RecordingPoster
) -> None:
    cid = workspace["general"]
    sid = schedule(api, cid, user=BOB)[1]["scheduled"]["id"]
    assert api("POST", f"/channels/{cid}/leave", user=BOB)[0] == 204
    connect("conn-bob", BOB, workspace["wid"])
    assert fire(sid) == {"outcome": "dropped"}
    assert api("GET", f"/channels/{cid}/messages")[1]["messages"] == []
    [event] = poster.events("conn-bob", "notification")
    notice = event["notification"]
    assert (notice["type"], notice["id"], notice["channelId"]) == ("scheduled_dropped", sid, cid)
    assert notice["text"] == "stand-up in five"
    listed = api("GET", "/me/notifications", user=BOB)[1]["notifications"]
    assert [n["type"] for n in listed] == ["scheduled_dropped"]
    assert api("GET", "/me/scheduled", user=BOB)[1]["scheduled"] == []


def test_pending_lists_are_soonest_first_and_paged(api: Api, workspace: dict[str, str]) -> None:
    cid = workspace["general"]
    made = [
        schedule(api, cid, text=f"m{minutes}", postAt=ahead(minutes=minutes))[1]["scheduled"]
        for minutes in (30, 10, 20)
    ]
    first = api("GET", "/me/scheduled", query={"limit": "2"})[1]
    assert [s["text"] for s in first["scheduled"]] == ["m10", "m20"]
    rest = api("GET", "/me/scheduled", query={"limit": "2", "cursor": first["nextCursor"]})[1]
    assert [s["text"] for s in rest["scheduled"]] == ["m30"]
    assert rest["nextCursor"] is None
    assert len(made) == 3
    assert api("GET", "/me/scheduled", query={"cursor": "bm90LWEtY3Vyc29y"})[0] == 400


# ------------------------------------------------------------------ reminders


def remind(api: Api, user: str = ALICE, **body: Any) -> tuple[int, Any]:
    return api(
        "POST", "/me/reminders", user=user, body={"text": "water", "at": ahead(minutes=5), **body}
    )


def test_a_reminder_becomes_a_reminder_notification_at_its_time(
    api: Api, workspace: dict[str, str], connect: Any, poster: RecordingPoster
) -> None:
    cid = workspace["general"]
    ts = api("POST", f"/channels/{cid}/messages", body={"text": "plan"})[1]["message"]["ts"]
    status, created = remind(api, channelId=cid, ts=ts)
    assert status == 201, created
    reminder = created["reminder"]
    assert set(reminder) == {"id", "text", "at", "channelId", "ts"}
    assert (reminder["channelId"], reminder["ts"]) == (cid, ts)
    assert api("GET", "/me/reminders")[1]["reminders"] == [reminder]
    connect("conn-alice", ALICE, workspace["wid"])

    assert fire(reminder["id"]) == {"outcome": "reminded"}
    [event] = poster.events("conn-alice", "notification")
    notice = event["notification"]
    assert (notice["type"], notice["id"], notice["text"]) == ("reminder", reminder["id"], "water")
    assert (notice["channelId"], notice["ts"]) == (cid, ts)
    assert api("GET", "/me/reminders")[1]["reminders"] == []
    listed = api("GET", "/me/notifications")[1]["notifications"]
    assert [n["type"] for n in listed] == ["reminder"]
    assert fire(reminder["id"]) == {"outcome": "gone"}


def test_a_reminder_about_nothing_reaches_every_workspace_of_its_owner(
    api: Api, workspace: dict[str, str], connect: Any, poster: RecordingPoster
) -> None:
    rid = remind(api)[1]["reminder"]["id"]
    connect("conn-alice", ALICE, workspace["wid"])
    fire(rid)
    [event] = poster.events("conn-alice", "notification")
    assert event["notification"]["channelId"] is None


def test_reminders_are_their_owners_and_cancelled_with_their_schedule(
    api: Api, workspace: dict[str, str]
) -> None:
    rid = remind(api)[1]["reminder"]["id"]
    assert api("GET", "/me/reminders", user=BOB)[1]["reminders"] == []
    assert api("DELETE", f"/reminders/{rid}", user=BOB)[0] == 404
    assert api("DELETE", f"/reminders/{rid}")[0] == 204
    assert schedules() == {}
    assert api("DELETE", f"/reminders/{rid}")[0] == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"at": "2020-01-01T00:00:00Z"}, 400),
        ({"at": "soon"}, 422),
        ({"text": ""}, 400),
        ({"ts": "1732698061.000100"}, 400),  # a ts needs its channel
        ({"channelId": "C0000000999"}, 404),
    ],
)
def test_bad_reminders_are_a_4xx(
    api: Api, workspace: dict[str, str], body: dict[str, Any], status: int
) -> None:
    got, reply = remind(api, **body)
    assert got == status, reply
    assert schedules() == {}


# ------------------------------------------------------------------ recurring reminders


def test_a_recurring_reminder_fires_each_occurrence_once_and_schedules_the_next(
    api: Api, workspace: dict[str, str], connect: Any, poster: RecordingPoster
) -> None:
    first = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    status, created = remind(api, at=first.isoformat(), recurrence={"frequency": "daily"})
    assert status == 201, created
    reminder = created["reminder"]
    assert reminder["recurrence"] == {"frequency": "daily"}
    rid = reminder["id"]
    name = f"{rid}-{int(first.timestamp())}"
    assert list(schedules()) == [name]  # one schedule an occurrence, named by its time
    connect("conn-alice", ALICE, workspace["wid"])

    assert fire(name) == {"outcome": "reminded"}
    [pending] = api("GET", "/me/reminders")[1]["reminders"]
    following = first + timedelta(days=1)
    assert datetime.fromisoformat(pending["at"]) == following
    following_name = f"{rid}-{int(following.timestamp())}"
    assert set(schedules()) == {name, following_name}  # the fired one deletes itself in AWS
    assert read_schedule(schedules()[following_name]).input["at"] == pending["at"]
    # A redelivered firing of the past occurrence does nothing: one notification.
    assert fire(name) == {"outcome": "gone"}
    assert len(poster.events("conn-alice", "notification")) == 1
    assert fire(following_name) == {"outcome": "reminded"}
    notices = api("GET", "/me/notifications")[1]["notifications"]
    assert [n["type"] for n in notices] == ["reminder", "reminder"]

    # Cancelling deletes the schedule of the occurrence it waits for.
    assert api("DELETE", f"/reminders/{rid}")[0] == 204
    third = f"{rid}-{int((first + timedelta(days=2)).timestamp())}"
    assert third not in schedules()
    assert api("GET", "/me/reminders")[1]["reminders"] == []


def test_a_weekly_reminder_falls_on_its_days(api: Api, workspace: dict[str, str]) -> None:
    monday = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # a Monday, within the horizon
    weekly = {"frequency": "weekly", "weekdays": ["monday", "thursday"]}
    status, created = remind(api, at=monday.isoformat(), recurrence=weekly)
    assert status == 201, created
    rid = created["reminder"]["id"]
    assert fire(f"{rid}-{int(monday.timestamp())}") == {"outcome": "reminded"}
    [pending] = api("GET", "/me/reminders")[1]["reminders"]
    assert datetime.fromisoformat(pending["at"]) == monday + timedelta(days=3)  # Thursday


@pytest.mark.parametrize(
    "recurrence",
    [
        {"frequency": "hourly"},
        {"frequency": "weekly"},
        {"frequency": "weekly", "weekdays": []},
        {"frequency": "weekly", "weekdays": ["funday"]},
        {"frequency": "daily", "weekdays": ["monday"]},
        "daily",
    ],
)
def test_a_recurrence_that_is_not_one_is_refused(
    api: Api, workspace: dict[str, str], recurrence: Any
) -> None:
    status, reply = remind(api, recurrence=recurrence)
    assert status in (400, 422), reply
    assert "error" in reply
    assert api("GET", "/me/reminders")[1]["reminders"] == []
    assert schedules() == {}
