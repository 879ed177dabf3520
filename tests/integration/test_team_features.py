"""Team features end to end on the local stack, over HTTP and real WebSockets (API.md,
"Team features"): a user group's mention reaches its members who see the channel and nobody
else; bookmarks and archiving are announced live and an archived channel refuses posts;
notification levels and do-not-disturb decide what the notifier pushes to SNS (read here
through an SQS queue subscribed to the topic) while mention counts are kept."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest

from local.stack import Stack
from tests.integration import test_messaging
from tests.integration.test_messaging import User

pytestmark = pytest.mark.integration

team = test_messaging.team


def _mentions(user: User, wid: str, cid: str) -> int:
    status, unreads = user.call("GET", f"/workspaces/{wid}/unreads")
    assert status == 200, unreads
    return next((c["mentionCount"] for c in unreads["channels"] if c["channelId"] == cid), 0)


def test_a_user_group_mention_reaches_its_members_only(team: dict[str, Any]) -> None:
    alice, bob, carol, wid, general = (team[k] for k in ("alice", "bob", "carol", "wid", "general"))
    handle = f"oncall-{uuid.uuid4().hex[:6]}"
    status, made = alice.call(
        "POST",
        f"/workspaces/{wid}/usergroups",
        {"handle": handle, "name": "On call", "userIds": [bob.id]},
    )
    assert status == 201, made
    gid = made["usergroup"]["id"]

    async def scenario() -> list[dict[str, Any]]:
        async with bob.socket(wid) as b, carol.socket(wid) as c:
            status, posted = await asyncio.to_thread(
                alice.call,
                "POST",
                f"/channels/{general}/messages",
                {"text": f"<!subteam^{gid}> deploy"},
            )
            assert status == 201, posted
            notice = await b.next("notification", timeout=30)
            assert (notice["notification"]["type"], notice["notification"]["ts"]) == (
                "mention",
                posted["message"]["ts"],
            )
            await c.next("message", timeout=30)  # Carol sees the message ...
            return await c.quiet(2.0)  # ... and no notification

    carol_frames = asyncio.run(scenario())
    assert [f for f in carol_frames if f.get("type") == "notification"] == []
    assert _mentions(bob, wid, general) == 1
    assert _mentions(carol, wid, general) == 0


def test_bookmarks_and_archiving_are_announced_and_an_archived_channel_refuses_posts(
    team: dict[str, Any],
) -> None:
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    status, made = alice.call(
        "POST", f"/workspaces/{wid}/channels", {"name": f"ops-{uuid.uuid4().hex[:6]}"}
    )
    assert status == 201, made
    cid = made["channel"]["id"]
    assert bob.call("POST", f"/channels/{cid}/join")[0] in (200, 204)

    async def scenario() -> None:
        async with bob.socket(wid) as b:
            status, added = await asyncio.to_thread(
                alice.call,
                "POST",
                f"/channels/{cid}/bookmarks",
                {"title": "Runbook", "link": "https://example.com/rb"},
            )
            assert status == 201, added
            bid = added["bookmark"]["id"]
            event = await b.next("bookmark_added", timeout=30)
            assert (event["channelId"], event["bookmark"]["title"]) == (cid, "Runbook")
            await asyncio.to_thread(
                alice.call, "PATCH", f"/bookmarks/{bid}", {"title": "Runbook v2"}
            )
            changed = await b.next("bookmark_changed", timeout=30)
            assert changed["bookmark"]["title"] == "Runbook v2"
            await asyncio.to_thread(alice.call, "DELETE", f"/bookmarks/{bid}")
            assert (await b.next("bookmark_removed", timeout=30))["bookmark"]["id"] == bid
            refused = await asyncio.to_thread(
                alice.call,
                "POST",
                f"/channels/{cid}/bookmarks",
                {"title": "x", "link": "javascript:alert(1)"},
            )
            assert refused[0] == 400, refused

            status, archived = await asyncio.to_thread(
                alice.call, "POST", f"/channels/{cid}/archive"
            )
            assert (status, archived["channel"]["isArchived"]) == (200, True)
            assert (await b.next("channel_archived", timeout=30))["channel"]["id"] == cid
            status, error = await asyncio.to_thread(
                bob.call, "POST", f"/channels/{cid}/messages", {"text": "still here?"}
            )
            assert (status, error["error"]["code"]) == (409, "conflict")
            assert (await asyncio.to_thread(alice.call, "POST", f"/channels/{cid}/unarchive"))[
                0
            ] == 200
            assert (await b.next("channel_unarchived", timeout=30))["channel"]["id"] == cid
            status, posted = await asyncio.to_thread(
                bob.call, "POST", f"/channels/{cid}/messages", {"text": "back"}
            )
            assert status == 201, posted

    asyncio.run(scenario())
    assert general  # the team's general channel is untouched by the archive


def _push_queue(stack: Stack) -> tuple[Any, str]:
    """A queue subscribed to the notifications topic with raw delivery: what SNS pushes."""
    sns, sqs = stack.aws("sns"), stack.aws("sqs")
    topic = next(
        t["TopicArn"] for t in sns.list_topics()["Topics"] if "NotificationsTopic" in t["TopicArn"]
    )
    url = sqs.create_queue(QueueName=f"pushes-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    return sqs, url


def _pushed(sqs: Any, url: str, recipient: str, seconds: float) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            body = json.loads(message["Body"])
            if body.get("recipient") == recipient:
                found.append(body)
    return found


def test_levels_and_do_not_disturb_decide_what_is_pushed_and_counts_are_kept(
    stack: Stack, team: dict[str, Any]
) -> None:
    """Bob is offline (no socket): a mention is pushed at the default level, nothing at
    `none` or while do-not-disturb lasts; his mention count rises every time."""
    alice, bob, wid, general = team["alice"], team["bob"], team["wid"], team["general"]
    sqs, url = _push_queue(stack)

    def mention(text: str) -> str:
        status, posted = alice.call(
            "POST", f"/channels/{general}/messages", {"text": f"<@{bob.id}> {text}"}
        )
        assert status == 201, posted
        return str(posted["message"]["ts"])

    first = mention("default level")
    assert [p["ts"] for p in _pushed(sqs, url, bob.id, 8)] == [first]

    assert bob.call("PUT", f"/channels/{general}/notifications", {"level": "none"})[0] == 204
    mention("level none")
    assert bob.call("PUT", f"/channels/{general}/notifications", {"level": "mentions"})[0] == 204
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert bob.call("PUT", "/me/dnd", {"until": until})[0] == 204
    mention("do not disturb")
    assert _pushed(sqs, url, bob.id, 5) == []

    assert bob.call("PUT", "/me/dnd", {"until": None})[0] == 204
    last = mention("after")
    assert [p["ts"] for p in _pushed(sqs, url, bob.id, 8)] == [last]
    assert _mentions(bob, wid, general) == 4
    status, listed = bob.call("GET", "/me/notifications")
    assert status == 200, listed
    assert len([n for n in listed["notifications"] if n["type"] == "mention"]) == 4
