"""Slack's chat.scheduleMessage, chat.deleteScheduledMessage, chat.scheduledMessages.list
and reminders.add/.list/.delete over Parley's scheduled messages and reminders: Slack's
parameters (unix seconds), shapes, error codes and scopes."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.functional.conftest import Api, SlackApi
from tests.functional.test_scheduling import fire, schedules
from tests.functional.test_slack_web_api import add_to, install, ok, refused


def test_a_bot_schedules_lists_and_deletes_a_message(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    cid = workspace["general"]
    bot = install(api, workspace["wid"], ["chat:write"])
    add_to(api, cid, bot)
    post_at = int(time.time()) + 600
    reply = ok(
        slack(
            "chat.scheduleMessage",
            bot["token"],
            form={"channel": cid, "text": "later", "post_at": str(post_at)},
        )
    )
    sid = reply["scheduled_message_id"]
    assert (reply["channel"], reply["post_at"]) == (cid, post_at)
    assert (reply["message"]["type"], reply["message"]["text"]) == ("delayed_message", "later")
    listed = ok(slack("chat.scheduledMessages.list", bot["token"], form={"channel": cid}))
    assert [
        (m["id"], m["channel_id"], m["post_at"], m["text"]) for m in listed["scheduled_messages"]
    ] == [(sid, cid, post_at, "later")]
    assert listed["response_metadata"] == {"next_cursor": ""}
    gone = {"channel": cid, "scheduled_message_id": "Q0000000000"}
    assert refused(slack("chat.deleteScheduledMessage", bot["token"], form=gone)) == (
        "invalid_scheduled_message_id"
    )
    delete = {"channel": cid, "scheduled_message_id": sid}
    ok(slack("chat.deleteScheduledMessage", bot["token"], form=delete))
    assert schedules() == {}
    assert ok(slack("chat.scheduledMessages.list", bot["token"]))["scheduled_messages"] == []


def test_a_scheduled_message_posts_as_the_bot(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    cid = workspace["general"]
    bot = install(api, workspace["wid"], ["chat:write", "channels:history"])
    add_to(api, cid, bot)
    form = {"channel": cid, "text": "deploy done", "post_at": str(int(time.time()) + 120)}
    sid = ok(slack("chat.scheduleMessage", bot["token"], form=form))["scheduled_message_id"]
    assert fire(sid) == {"outcome": "posted"}
    history = ok(slack("conversations.history", bot["token"], form={"channel": cid}))
    [message] = history["messages"]
    assert (message["text"], message["user"], message.get("bot_id")) == (
        "deploy done",
        bot["user"],
        bot["user"],
    )


def test_slacks_error_codes_and_scopes(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    cid = workspace["general"]
    bot = install(api, workspace["wid"], ["chat:write"])
    add_to(api, cid, bot)
    now = int(time.time())

    def schedule(**form: str) -> str:
        return refused(
            slack("chat.scheduleMessage", bot["token"], form={"channel": cid, "text": "x", **form})
        )

    assert schedule(post_at=str(now - 60)) == "time_in_past"
    assert schedule(post_at=str(now + 121 * 86400)) == "time_too_far"
    assert schedule(post_at="whenever") == "invalid_time"
    assert (
        refused(
            slack(
                "chat.scheduleMessage",
                bot["token"],
                form={"channel": cid, "post_at": str(now + 600)},
            )
        )
        == "no_text"
    )
    assert (
        refused(
            slack(
                "chat.scheduleMessage",
                bot["token"],
                form={"channel": "C0000000999", "text": "x", "post_at": str(now + 600)},
            )
        )
        == "channel_not_found"
    )
    assert refused(
        slack("reminders.add", bot["token"], form={"text": "x", "time": str(now + 60)})
    ) == ("missing_scope")
    assert schedules() == {}


def test_a_bot_adds_lists_and_deletes_reminders(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    bot = install(api, workspace["wid"], ["reminders:read", "reminders:write"])
    at = int(time.time()) + 3600
    reply = ok(slack("reminders.add", bot["token"], form={"text": "stretch", "time": str(at)}))
    reminder = reply["reminder"]
    assert (reminder["text"], reminder["time"], reminder["user"]) == ("stretch", at, bot["user"])
    assert (reminder["recurring"], reminder["complete_ts"]) == (False, 0)
    absolute = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at + 60))
    second = ok(slack("reminders.add", bot["token"], form={"text": "lunch", "time": absolute}))
    assert second["reminder"]["time"] == at + 60
    listed = ok(slack("reminders.list", bot["token"]))["reminders"]
    assert [r["text"] for r in listed] == ["stretch", "lunch"]
    ok(slack("reminders.delete", bot["token"], form={"reminder": reminder["id"]}))
    assert refused(slack("reminders.delete", bot["token"], form={"reminder": reminder["id"]})) == (
        "not_found"
    )
    assert [r["text"] for r in ok(slack("reminders.list", bot["token"]))["reminders"]] == ["lunch"]
    past = {"text": "x", "time": str(int(time.time()) - 10)}
    assert refused(slack("reminders.add", bot["token"], form=past)) == "time_in_past"
    assert refused(slack("reminders.add", bot["token"], form={"text": "x", "time": "someday"})) == (
        "cannot_parse"
    )
    assert (
        refused(
            slack(
                "reminders.add", bot["token"], form={"text": "x", "time": str(at), "user": "U123"}
            )
        )
        == "cannot_add_others"
    )
    assert refused(slack("chat.scheduledMessages.list", bot["token"])) == "missing_scope"


def test_reminders_add_reads_time_as_slack_does(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    """Seconds from now (within a day), Unix seconds, ISO 8601, and words."""
    bot = install(api, workspace["wid"], ["reminders:read", "reminders:write"])

    def added(time_: str, **form: str) -> dict[str, Any]:
        reply = ok(slack("reminders.add", bot["token"], form={"text": "t", "time": time_, **form}))
        return reply["reminder"]  # type: ignore[no-any-return]  # a value read from JSON

    now = time.time()
    assert abs(added("900")["time"] - (now + 900)) <= 2
    assert abs(added("in 15 minutes")["time"] - (now + 900)) <= 2
    assert abs(added("in an hour")["time"] - (now + 3600)) <= 2
    tomorrow = added("tomorrow at 9:30am")
    assert time.gmtime(tomorrow["time"])[3:5] == (9, 30)
    assert 0 < tomorrow["time"] - now <= 2 * 86400
    assert tomorrow["recurring"] is False
    every = added("every Thursday at 2pm")
    assert (every["recurring"], every["recurrence"]) == (
        True,
        {"frequency": "weekly", "weekdays": ["thursday"]},
    )
    assert "complete_ts" not in every
    assert time.gmtime(every["time"])[6] == 3  # a Thursday (Monday is 0)
    weekdays = added("every weekday")
    assert weekdays["recurrence"]["weekdays"] == [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
    ]
    # `recurrence` as slack_sdk sends it (a form field of JSON) wins over the words'.
    monthly = added("tomorrow", recurrence=json.dumps({"frequency": "monthly"}))
    assert monthly["recurrence"] == {"frequency": "monthly"}
    for bad in ("whenever", "at 25:00", "in 3 fortnights"):
        form = {"text": "t", "time": bad}
        assert refused(slack("reminders.add", bot["token"], form=form)) == "cannot_parse"
    form = {"text": "t", "time": "tomorrow", "recurrence": '{"frequency": "hourly"}'}
    assert refused(slack("reminders.add", bot["token"], form=form)) == "invalid_arguments"


def test_reminders_info_and_complete(api: Api, slack: SlackApi, workspace: dict[str, str]) -> None:
    bot = install(api, workspace["wid"], ["reminders:read", "reminders:write"])
    once = ok(slack("reminders.add", bot["token"], form={"text": "a", "time": "in 5 minutes"}))
    rid = once["reminder"]["id"]
    info = ok(slack("reminders.info", bot["token"], form={"reminder": rid}))
    assert info["reminder"] == once["reminder"]
    daily = ok(slack("reminders.add", bot["token"], form={"text": "b", "time": "every day"}))
    daily_id = daily["reminder"]["id"]
    assert refused(slack("reminders.complete", bot["token"], form={"reminder": daily_id})) == (
        "cannot_complete_recurring"
    )
    ok(slack("reminders.complete", bot["token"], form={"reminder": rid}))
    assert refused(slack("reminders.info", bot["token"], form={"reminder": rid})) == "not_found"
    listed = ok(slack("reminders.list", bot["token"]))["reminders"]
    assert [r["id"] for r in listed] == [daily_id]
    assert [name for name in schedules() if name.startswith(rid)] == []
