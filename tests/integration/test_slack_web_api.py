"""Slack's Web API on the local stack through the real slack_sdk: `WebClient(token=<bot
token>, base_url=httpUrl + "/api/")`, as a script written for Slack calls it. Each method
answers what the SDK expects (its pagination iterator follows `next_cursor`, its
`SlackApiError` carries Slack's codes, its rate-limit retry handler reads Retry-After),
and generated bodies for every method never get a 5xx or a traceback."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse

from local.stack import Stack
from tests.integration.test_messaging import User, make_team

pytestmark = pytest.mark.integration

EVERY_SCOPE = [
    "chat:write",
    "channels:read",
    "channels:history",
    "channels:join",
    "groups:read",
    "groups:history",
    "reactions:read",
    "reactions:write",
    "pins:read",
    "pins:write",
    "users:read",
    "users:read.email",
]


@dataclass
class Installed:
    """Alice's workspace (Bob and Carol in it) with an app of every scope, its bot in
    #general; `client` retries rate-limited calls as a patient script would."""

    stack: Stack
    team: dict[str, Any]
    app_id: str
    bot: str
    token: str
    client: WebClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = self.client_for(self.token, retry_rate_limits=True)

    @property
    def alice(self) -> User:
        return self.team["alice"]

    @property
    def general(self) -> str:
        return self.team["general"]

    def client_for(self, token: str | None, *, retry_rate_limits: bool = False) -> WebClient:
        handlers = [RateLimitErrorRetryHandler(max_retry_count=5)] if retry_rate_limits else []
        client = WebClient(token=token, base_url=f"{self.stack.http_url}/api/", timeout=30)
        client.retry_handlers.extend(handlers)
        return client

    def channel(self, name: str, *, with_bot: bool = True, private: bool = False) -> str:
        """A new channel of Alice's, with Bob (and the bot) in it."""
        body = {"name": name, "private": private}
        status, made = self.alice.call("POST", f"/workspaces/{self.team['wid']}/channels", body)
        assert status == 201, made
        cid = str(made["channel"]["id"])
        members = [self.team["bob"].id, *([self.bot] if with_bot else [])]
        assert self.alice.call("POST", f"/channels/{cid}/members", {"userIds": members})[0] == 200
        return cid

    def post_as(self, user: User, cid: str, text: str, thread_ts: str | None = None) -> str:
        body = {"text": text, **({"threadTs": thread_ts} if thread_ts else {})}
        status, posted = user.call("POST", f"/channels/{cid}/messages", body)
        assert status == 201, posted
        return str(posted["message"]["ts"])


def install(team: dict[str, Any], name: str, scopes: list[str]) -> dict[str, Any]:
    alice, wid = team["alice"], team["wid"]
    status, created = alice.call(
        "POST", f"/workspaces/{wid}/apps", {"name": name, "scopes": scopes}
    )
    assert status == 201, created
    return created


@pytest.fixture(scope="module")
def slack(stack: Stack) -> Installed:
    team = make_team(stack)
    created = install(team, "Scripts", EVERY_SCOPE)
    bot = created["app"]["botUserId"]
    general = team["general"]
    assert team["alice"].call("POST", f"/channels/{general}/members", {"userIds": [bot]})[0] == 200
    return Installed(stack, team, created["app"]["id"], bot, created["botToken"])


def _header(response: SlackResponse, name: str) -> str | None:
    for key, value in response.headers.items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def _error(call: Any, *args: Any, **kwargs: Any) -> SlackResponse:
    """The response of a call that the SDK raised SlackApiError for."""
    with pytest.raises(SlackApiError) as raised:
        call(*args, **kwargs)
    return raised.value.response


# -------------------------------------------------------------------- tokens


def test_auth_test_names_the_bot_its_team_and_the_tokens_scopes(slack: Installed) -> None:
    answer = slack.client.auth_test()
    assert answer["ok"] is True
    assert (answer["team_id"], answer["user_id"], answer["bot_id"], answer["app_id"]) == (
        slack.team["wid"],
        slack.bot,
        slack.bot,
        slack.app_id,
    )
    assert answer["url"] == f"{slack.stack.http_url}/"
    assert set((_header(answer, "X-OAuth-Scopes") or "").split(",")) == set(EVERY_SCOPE)


def test_no_token_is_not_authed_and_a_wrong_one_invalid_auth(slack: Installed) -> None:
    assert _error(slack.client_for(None).auth_test)["error"] == "not_authed"
    wrong = slack.client_for("xoxb-0000-not-a-token")
    refused = _error(wrong.chat_postMessage, channel=slack.general, text="x")
    assert (refused.status_code, refused["error"]) == (200, "invalid_auth")


# -------------------------------------------------------------------- chat


def test_post_message_with_text_blocks_a_thread_and_a_broadcast(slack: Installed) -> None:
    cid = slack.channel("sdk-post")
    plain = slack.client.chat_postMessage(channel=cid, text="deploy started")
    assert (plain["channel"], plain["message"]["text"]) == (cid, "deploy started")
    assert plain["message"]["bot_id"] == slack.bot

    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*v42* is out"}},
        {"type": "divider"},
    ]
    rich = slack.client.chat_postMessage(channel=cid, text="v42 is out", blocks=blocks)
    assert rich["message"]["blocks"] == blocks

    thread = plain["ts"]
    quiet = slack.client.chat_postMessage(channel=cid, text="step 1 done", thread_ts=thread)
    loud = slack.client.chat_postMessage(
        channel=cid, text="all done", thread_ts=thread, reply_broadcast=True
    )
    assert quiet["message"]["thread_ts"] == thread
    assert loud["message"]["subtype"] == "thread_broadcast"

    history = slack.client.conversations_history(channel=cid)["messages"]
    assert [m["text"] for m in history] == ["all done", "v42 is out", "deploy started"]
    assert history[1]["blocks"] == blocks
    assert history[2]["reply_count"] == 2
    replies = slack.client.conversations_replies(channel=cid, ts=thread)["messages"]
    assert [m["text"] for m in replies] == ["deploy started", "step 1 done", "all done"]

    # Parley's own API shows the same messages, blocks and all
    _, native = slack.alice.call("GET", f"/channels/{cid}/messages/{rich['ts']}")
    assert native["message"]["blocks"] == blocks


def test_update_and_delete_the_bots_own_messages_but_not_a_persons(slack: Installed) -> None:
    cid = slack.channel("sdk-edit")
    ts = slack.client.chat_postMessage(channel=cid, text="draft")["ts"]
    updated = slack.client.chat_update(channel=cid, ts=ts, text="final")
    assert (updated["ts"], updated["text"]) == (ts, "final")
    (shown,) = slack.client.conversations_history(channel=cid)["messages"]
    assert (shown["text"], shown["edited"]["user"]) == ("final", slack.bot)

    theirs = slack.post_as(slack.alice, cid, "mine")
    assert _error(slack.client.chat_update, channel=cid, ts=theirs, text="x")["error"] == (
        "cant_update_message"
    )
    assert _error(slack.client.chat_delete, channel=cid, ts=theirs)["error"] == (
        "cant_delete_message"
    )

    assert slack.client.chat_delete(channel=cid, ts=ts)["ts"] == ts
    assert [m["ts"] for m in slack.client.conversations_history(channel=cid)["messages"]] == [
        theirs
    ]
    assert _error(slack.client.chat_update, channel=cid, ts=ts, text="x")["error"] == (
        "message_not_found"
    )


def test_post_ephemeral_reaches_its_users_websocket_and_no_one_elses(slack: Installed) -> None:
    alice, bob, wid = slack.alice, slack.team["bob"], slack.team["wid"]
    cid = slack.channel("sdk-ephemeral")

    async def scenario() -> None:
        async with alice.socket(wid) as a, bob.socket(wid) as b:
            sent = await asyncio.to_thread(
                slack.client.chat_postEphemeral, channel=cid, user=bob.id, text="only for bob"
            )
            shown = await b.next("ephemeral_message", timeout=30, channelId=cid)
            assert (shown["text"], shown["ts"]) == ("only for bob", sent["message_ts"])
            assert shown["appId"] == slack.app_id
            heard = await a.quiet(1.5)
            assert [f for f in heard if f.get("type") == "ephemeral_message"] == []

    asyncio.run(scenario())
    assert slack.client.conversations_history(channel=cid)["messages"] == []
    carol = slack.team["carol"]  # not in the channel
    refused = _error(slack.client.chat_postEphemeral, channel=cid, user=carol.id, text="x")
    assert refused["error"] == "user_not_in_channel"


def test_get_permalink_names_the_message_and_its_thread(slack: Installed) -> None:
    cid = slack.channel("sdk-link")
    parent = slack.post_as(slack.alice, cid, "link me")
    reply = slack.post_as(slack.alice, cid, "and me", thread_ts=parent)
    top = slack.client.chat_getPermalink(channel=cid, message_ts=parent)["permalink"]
    assert top == f"{slack.stack.http_url}/archives/{cid}/p{parent.replace('.', '')}"
    inner = slack.client.chat_getPermalink(channel=cid, message_ts=reply)["permalink"]
    assert inner.endswith(f"/p{reply.replace('.', '')}?thread_ts={parent}&cid={cid}")


# -------------------------------------------------------------------- conversations


def _pages(first: SlackResponse, key: str) -> list[list[Any]]:
    """Every page of a list, as the SDK's iterator fetches them (following next_cursor)."""
    return [list(page[key]) for page in first]


def test_history_and_replies_page_with_the_sdks_cursor_iterator(slack: Installed) -> None:
    cid = slack.channel("sdk-history")
    texts = [f"m{i}" for i in range(7)]
    for text in texts:
        slack.post_as(slack.alice, cid, text)
    pages = _pages(slack.client.conversations_history(channel=cid, limit=3), "messages")
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [m["text"] for page in pages for m in page] == texts[::-1]

    parent = slack.post_as(slack.alice, cid, "thread")
    for i in range(5):
        slack.post_as(slack.team["bob"], cid, f"r{i}", thread_ts=parent)
    first = slack.client.conversations_replies(channel=cid, ts=parent, limit=2)
    assert first["has_more"] is True
    pages = _pages(first, "messages")
    shown = [m["text"] for page in pages for m in page]
    assert shown == ["thread", "r0", "r1", "r2", "r3", "r4"]  # the parent once, first
    assert len(pages) == 3


def test_conversations_list_members_and_users_list_page_to_the_end(slack: Installed) -> None:
    made = {slack.channel(f"sdk-list-{i}", with_bot=False) for i in range(5)}
    pages = _pages(slack.client.conversations_list(limit=2), "channels")
    ids = [c["id"] for page in pages for c in page]
    assert all(len(p) <= 2 for p in pages)
    assert len(ids) == len(set(ids)), "no channel twice"
    assert made | {slack.general} <= set(ids)

    pages = _pages(slack.client.conversations_members(channel=slack.general, limit=1), "members")
    members = [m for page in pages for m in page]
    people = {slack.team[who].id for who in ("alice", "bob", "carol")}
    assert sorted(members) == sorted(people | {slack.bot})
    assert all(len(p) <= 1 for p in pages)

    pages = _pages(slack.client.users_list(limit=2), "members")
    users = [u["id"] for page in pages for u in page]
    assert len(users) == len(set(users))
    assert people | {slack.bot} <= set(users)


def test_conversations_info_and_join(slack: Installed) -> None:
    cid = slack.channel("sdk-join", with_bot=False)
    info = slack.client.conversations_info(channel=cid)["channel"]
    assert (info["id"], info["name"], info["is_member"], info["is_private"]) == (
        cid,
        "sdk-join",
        False,
        False,
    )
    assert _error(slack.client.conversations_history, channel=cid)["error"] == "not_in_channel"

    joined = slack.client.conversations_join(channel=cid)
    assert joined["channel"]["is_member"] is True
    assert "warning" not in joined
    assert slack.bot in slack.client.conversations_members(channel=cid)["members"]
    assert slack.client.conversations_join(channel=cid)["warning"] == "already_in_channel"

    secret = slack.channel("sdk-secret", with_bot=False, private=True)
    assert _error(slack.client.conversations_info, channel=secret)["error"] == ("channel_not_found")
    assert _error(slack.client.conversations_join, channel=secret)["error"] == ("channel_not_found")


# -------------------------------------------------------------------- reactions and pins


def test_reactions_add_get_and_remove(slack: Installed) -> None:
    cid = slack.channel("sdk-react")
    ts = slack.post_as(slack.alice, cid, "ship it?")
    slack.team["bob"].call("PUT", f"/channels/{cid}/messages/{ts}/reactions/tada")
    assert slack.client.reactions_add(channel=cid, timestamp=ts, name="tada")["ok"] is True
    again = _error(slack.client.reactions_add, channel=cid, timestamp=ts, name="tada")
    assert again["error"] == "already_reacted"

    got = slack.client.reactions_get(channel=cid, timestamp=ts)
    assert (got["type"], got["channel"]) == ("message", cid)
    (tada,) = got["message"]["reactions"]
    assert (tada["name"], tada["count"], sorted(tada["users"])) == (
        "tada",
        2,
        sorted([slack.team["bob"].id, slack.bot]),
    )

    slack.client.reactions_remove(channel=cid, timestamp=ts, name="tada")
    (tada,) = slack.client.reactions_get(channel=cid, timestamp=ts)["message"]["reactions"]
    assert tada["users"] == [slack.team["bob"].id]
    gone = _error(slack.client.reactions_remove, channel=cid, timestamp=ts, name="tada")
    assert gone["error"] == "no_reaction"


def test_pins_add_and_remove(slack: Installed) -> None:
    cid = slack.channel("sdk-pins")
    ts = slack.post_as(slack.alice, cid, "the runbook")
    assert slack.client.pins_add(channel=cid, timestamp=ts)["ok"] is True
    assert _error(slack.client.pins_add, channel=cid, timestamp=ts)["error"] == "already_pinned"
    _, pinned = slack.alice.call("GET", f"/channels/{cid}/pins")
    assert [m["ts"] for m in pinned["messages"]] == [ts]

    assert slack.client.pins_remove(channel=cid, timestamp=ts)["ok"] is True
    assert _error(slack.client.pins_remove, channel=cid, timestamp=ts)["error"] == "no_pin"
    _, pinned = slack.alice.call("GET", f"/channels/{cid}/pins")
    assert pinned["messages"] == []


# -------------------------------------------------------------------- users


def test_users_info_and_lookup_by_email(slack: Installed) -> None:
    bob = slack.team["bob"]
    _, me = bob.call("GET", "/me")
    email = me["user"]["email"]
    info = slack.client.users_info(user=bob.id)["user"]
    assert (info["id"], info["is_bot"], info["profile"]["email"]) == (bob.id, False, email)
    found = slack.client.users_lookupByEmail(email=email)["user"]
    assert found["id"] == bob.id
    missing = _error(slack.client.users_lookupByEmail, email="nobody@example.com")
    assert missing["error"] == "users_not_found"
    assert slack.client.users_info(user=slack.bot)["user"]["is_bot"] is True


# -------------------------------------------------------------------- scopes and limits


def test_a_method_without_its_scope_raises_missing_scope_naming_what_it_needs(
    slack: Installed,
) -> None:
    created = install(slack.team, "Narrow", ["chat:write"])
    narrow = slack.client_for(created["botToken"])
    bot = created["app"]["botUserId"]
    slack.alice.call("POST", f"/channels/{slack.general}/members", {"userIds": [bot]})
    ts = slack.post_as(slack.alice, slack.general, "react to me")

    refused = _error(narrow.users_info, user=slack.alice.id)
    assert (refused["error"], refused["needed"], refused["provided"]) == (
        "missing_scope",
        "users:read",
        "chat:write",
    )
    assert _header(refused, "X-OAuth-Scopes") == "chat:write"
    history = _error(narrow.conversations_history, channel=slack.general)
    assert "channels:history" in history["needed"].split(",")
    reacted = _error(narrow.reactions_add, channel=slack.general, timestamp=ts, name="eyes")
    assert reacted["needed"] == "reactions:write"
    _, message = slack.alice.call("GET", f"/channels/{slack.general}/messages/{ts}")
    assert message["message"]["reactions"] == [], "a refused call writes nothing"
    assert narrow.chat_postMessage(channel=slack.general, text="but this I may")["ok"] is True


class CountingRateLimitRetries(RateLimitErrorRetryHandler):
    def __init__(self) -> None:
        super().__init__(max_retry_count=5)
        self.waits = 0

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        self.waits += 1
        super().prepare_for_next_attempt(
            state=state, request=request, response=response, error=error
        )


def test_a_rate_limit_reaches_the_sdk_as_slacks_429_and_its_handler_retries(
    slack: Installed,
) -> None:
    cid = slack.channel("sdk-limits")
    impatient = slack.client_for(slack.token)
    limited = None
    for n in range(20):  # a bot's burst is a few messages a channel, then about one a second
        try:
            impatient.chat_postMessage(channel=cid, text=f"burst {n}")
        except SlackApiError as error:
            limited = error.response
            break
    assert limited is not None, "twenty messages at once and no rate limit"
    assert (limited.status_code, limited["ok"], limited["error"]) == (429, False, "ratelimited")
    assert int(_header(limited, "Retry-After") or "0") >= 1

    retries = CountingRateLimitRetries()
    patient = slack.client_for(slack.token)
    patient.retry_handlers.append(retries)
    for n in range(3):
        assert patient.chat_postMessage(channel=cid, text=f"patient {n}")["ok"] is True
    assert retries.waits >= 1, "the handler read Retry-After and tried again"


# -------------------------------------------------------------------- fuzzing the bodies

SEED = 19
CASES_PER_METHOD = 250
# Each method's parameters, as Slack names them.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.postMessage": (
        "channel",
        "text",
        "thread_ts",
        "blocks",
        "reply_broadcast",
        "attachments",
    ),
    "chat.update": ("channel", "ts", "text", "blocks"),
    "chat.delete": ("channel", "ts"),
    "chat.postEphemeral": ("channel", "user", "text", "thread_ts", "blocks"),
    "chat.getPermalink": ("channel", "message_ts"),
    "conversations.list": ("types", "limit", "cursor", "exclude_archived"),
    "conversations.info": ("channel",),
    "conversations.history": ("channel", "oldest", "latest", "inclusive", "limit", "cursor"),
    "conversations.replies": ("channel", "ts", "limit", "cursor", "oldest", "latest"),
    "conversations.members": ("channel", "limit", "cursor"),
    "conversations.join": ("channel",),
    "reactions.add": ("channel", "timestamp", "name"),
    "reactions.remove": ("channel", "timestamp", "name"),
    "reactions.get": ("channel", "timestamp"),
    "pins.add": ("channel", "timestamp"),
    "pins.remove": ("channel", "timestamp"),
    "users.info": ("user",),
    "users.list": ("limit", "cursor"),
    "users.lookupByEmail": ("email",),
}
WEIRD_STRINGS = [
    "",
    " ",
    "\x00",
    "null",
    "[]",
    "{}",
    "true",
    "-1",
    "0",
    "1e309",
    "NaN",
    "9" * 40,
    "1732700000.000123x",
    "0000000000.000000",
    "../../etc/passwd",
    "%00%ff",
    "<@U123>",
    "#general",
    "#",
    "C" + "A" * 300,
    "🎉" * 50,
    "\u202etxet",
    "\ud800",  # a lone surrogate: valid JSON escape, not encodable text
    "a\r\nb",
    "' OR 1=1 --",
    "${jndi:ldap://x}",
    "eyJ0eXAiOiJKV1QifQ",
    "U" * 5000,
]


JSON = "application/json"


class Fuzz:
    """Generated calls for one method, from one seeded generator: random types for each
    parameter, real ids for some, wrong content types, broken JSON, huge and deep values.
    A call is the keyword arguments of `requests.request` (POST unless `method` says)."""

    def __init__(self, method: str, good: dict[str, Any], token: str) -> None:
        self.method = method
        self.good = good
        self.token = token
        self.rng = random.Random(f"{SEED}:{method}")
        self.auth = {"Authorization": f"Bearer {token}"}

    # ---------------------------------------------------------------- values

    def _text(self) -> str:
        alphabet = "abcXYZ019 ._-:#@<>!\"'\\/\t\n\u00e9\u4e2d\U0001f600"
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randrange(1, 80)))

    def value(self, depth: int = 0) -> Any:
        rng = self.rng
        scalars: list[Callable[[], Any]] = [
            lambda: None,
            lambda: rng.choice([True, False]),
            lambda: rng.choice([0, -1, 1, 2**31, -(2**63), 10**30, 7]),
            lambda: rng.choice([0.5, -1e300, 1e-300, float("inf"), float("nan"), 1732700000.5]),
            lambda: rng.choice(WEIRD_STRINGS),
            lambda: rng.choice(WEIRD_STRINGS),
            self._text,
        ]
        containers: list[Callable[[], Any]] = [
            lambda: [self.value(depth + 1) for _ in range(rng.randrange(0, 4))],
            lambda: {str(self.value(depth + 1))[:20]: self.value(depth + 1) for _ in range(3)},
        ]
        return rng.choice(scalars + (containers if depth < 4 else []))()

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in PARAMETERS[self.method]:
            roll = self.rng.random()
            if roll < 0.35 and name in self.good:
                out[name] = self.good[name]
            elif roll < 0.85:
                out[name] = self.value()
        if self.rng.random() < 0.1:
            out[self.rng.choice(["token", "extra", "channel[]", ""])] = self.value()
        return out

    @staticmethod
    def _field(value: Any) -> bytes:
        """A form field's bytes; a lone surrogate goes through as the invalid UTF-8 it is."""
        text = value if isinstance(value, str) else json.dumps(value)
        return text.encode("utf-8", "surrogatepass")

    # ---------------------------------------------------------------- calls

    def case(self) -> tuple[str, dict[str, Any]]:
        """A description (the kind of call) and the call."""
        kind = self.rng.choice(list(self._KINDS))
        return kind, self._KINDS[kind](self, self.params())

    def _json(self, params: dict[str, Any]) -> dict[str, Any]:
        # NaN and Infinity too, which json.dumps writes and Python's json reads back
        return {"data": json.dumps(params), "headers": {**self.auth, "Content-Type": JSON}}

    def _form(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"data": {k: self._field(v) for k, v in params.items()}, "headers": self.auth}

    def _query(self, params: dict[str, Any]) -> dict[str, Any]:
        query = {k: self._field(v)[:500] for k, v in params.items()}
        return {"method": "GET", "params": query, "headers": self.auth}

    def _json_as_another_type(self, params: dict[str, Any]) -> dict[str, Any]:
        kind = self.rng.choice(["text/plain", "application/xml", "multipart/form-data", ""])
        return {"data": json.dumps(params), "headers": {**self.auth, "Content-Type": kind}}

    def _form_as_json(self, params: dict[str, Any]) -> dict[str, Any]:
        form = b"&".join(k.encode() + b"=" + self._field(v) for k, v in params.items())
        return {"data": form or b"a=b", "headers": {**self.auth, "Content-Type": JSON}}

    def _broken_json(self, params: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(params)
        broken = self.rng.choice(
            [
                text[: max(1, len(text) // 2)],
                text + "}",
                "{" + text,
                "[1, 2]",
                "null",
                '"text"',
                "{'channel': 1}",
                '{"a": 1,}',
                "\ufeff" + text,
            ]
        )
        return {"data": broken.encode(), "headers": {**self.auth, "Content-Type": JSON}}

    def _random_bytes(self, _: dict[str, Any]) -> dict[str, Any]:
        raw = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 400)))
        kinds = [JSON, "application/x-www-form-urlencoded", "application/octet-stream"]
        return {"data": raw, "headers": {**self.auth, "Content-Type": self.rng.choice(kinds)}}

    def _huge(self, params: dict[str, Any]) -> dict[str, Any]:
        # Past 1 MB (Slack's edge refuses it) and under Lambda's 6 MB event, which the
        # gateway refuses with its own 413 before any function runs.
        char, count = self.rng.choice(
            [("x", 1_100_000), ("é", 300_000), ("🎉", 300_000), ("x", 40_001), ("🎉", 40_001)]
        )
        name = self.rng.choice([*PARAMETERS[self.method], "text"])
        body = json.dumps({**params, name: char * count}, ensure_ascii=False)
        data = body.encode("utf-8", "surrogatepass")
        return {"data": data, "headers": {**self.auth, "Content-Type": JSON}}

    def _deep(self, params: dict[str, Any]) -> dict[str, Any]:
        depth = self.rng.choice([40, 900, 5_000, 200_000])
        if self.rng.random() < 0.5:  # a block that looks right, deep inside
            inner = '{"t":' * depth + "1" + "}" * depth
            value = f'[{{"type": "section", "text": {inner}}}]'
        else:
            value = "[" * depth + "]" * depth
        name = self.rng.choice([*PARAMETERS[self.method], "blocks"])
        rest = json.dumps({k: v for k, v in params.items() if k != name})
        body = f'{{"{name}": {value}, {rest[1:]}' if len(rest) > 2 else f'{{"{name}": {value}}}'
        return {"data": body, "headers": {**self.auth, "Content-Type": JSON}}

    def _no_token(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"data": {k: self._field(v) for k, v in params.items()}}

    def _token_field(self, params: dict[str, Any]) -> dict[str, Any]:
        token = self.rng.choice([self.token, self.value(), "xoxb-" + "0" * 40, None])
        return {"data": json.dumps({**params, "token": token}), "headers": {"Content-Type": JSON}}

    _KINDS: ClassVar[dict[str, Callable[[Fuzz, dict[str, Any]], dict[str, Any]]]] = {
        "json": _json,
        "json again": _json,
        "form": _form,
        "form again": _form,
        "query": _query,
        "json as another type": _json_as_another_type,
        "form as json": _form_as_json,
        "broken json": _broken_json,
        "random bytes": _random_bytes,
        "huge": _huge,
        "deep": _deep,
        "no token": _no_token,
        "token field": _token_field,
    }


def _check(method: str, kind: str, reply: requests.Response) -> str | None:
    """What is wrong with a reply, or None: a 5xx, a traceback, no JSON, `ok` false without
    an `error`, a status but 200 or 429, or a 429 without Retry-After."""
    where = f"{method} ({kind}): {reply.status_code} {reply.text[:300]!r}"
    if "Traceback" in reply.text or 'File "/' in reply.text:
        return f"a traceback in {where}"
    try:
        body = reply.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
        return f"no JSON with ok: {where}"
    problems = [
        reply.status_code >= 500,
        reply.status_code not in (200, 429),
        reply.status_code == 429 and not reply.headers.get("Retry-After"),
        (reply.status_code != 200 or not body["ok"])
        and (body["ok"] or not isinstance(body.get("error"), str) or not body["error"]),
    ]
    return where if any(problems) else None


@pytest.fixture
def fuzz_targets(slack: Installed) -> dict[str, Any]:
    cid = slack.channel("sdk-fuzz")
    ts = slack.post_as(slack.alice, cid, "fuzz me")
    _, me = slack.alice.call("GET", "/me")
    return {
        "channel": cid,
        "ts": ts,
        "timestamp": ts,
        "thread_ts": ts,
        "message_ts": ts,
        "user": slack.alice.id,
        "email": me["user"]["email"],
        "name": "tada",
        "limit": "2",
        "types": "public_channel,private_channel",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}],
    }


def test_generated_bodies_for_every_method_get_slacks_answers_never_a_5xx(
    slack: Installed, fuzz_targets: dict[str, Any]
) -> None:
    cases = []
    for method in PARAMETERS:
        fuzz = Fuzz(method, fuzz_targets, slack.token)
        cases += [(method, *fuzz.case()) for _ in range(CASES_PER_METHOD)]
    base = f"{slack.stack.http_url}/api/"

    def send(case: tuple[str, str, dict[str, Any]]) -> str | None:
        method, kind, arguments = case
        verb = arguments.pop("method", "POST")
        reply = requests.request(verb, base + method, timeout=60, **arguments)
        return _check(method, kind, reply)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        problems = [p for p in pool.map(send, cases) if p is not None]
    took = time.monotonic() - started
    print(f"{len(cases)} generated calls in {took:.1f} s")
    kinds = Counter(p.split(":")[0] + ":" + p.split(":")[1].split("'")[0] for p in problems)
    summary = "\n".join(f"{n} x {kind}" for kind, n in kinds.most_common())
    assert problems == [], f"{len(problems)} of {len(cases)} calls:\n{summary}\n" + "\n".join(
        problems[:10]
    )


def test_user_groups_through_slack_sdk_and_a_subteam_mention(slack: Installed) -> None:
    """slack_sdk's usergroups_* calls manage a group; a message that mentions it counts as
    a mention for the group's member in the channel (Bob), as API.md says."""
    created = install(slack.team, "Groups", ["usergroups:read", "usergroups:write"])
    client = slack.client_for(created["botToken"], retry_rate_limits=True)
    handle = f"oncall{uuid.uuid4().hex[:6]}"
    group = client.usergroups_create(name="On call", handle=handle)["usergroup"]
    bob = slack.team["bob"]
    updated = client.usergroups_users_update(usergroup=group["id"], users=[bob.id])
    assert updated["usergroup"]["users"] == [bob.id]
    assert client.usergroups_users_list(usergroup=group["id"])["users"] == [bob.id]
    found = client.usergroups_list(include_users=True)["usergroups"]
    assert [g["handle"] for g in found if g["id"] == group["id"]] == [handle]
    with pytest.raises(SlackApiError) as taken:
        client.usergroups_create(name="Again", handle=handle)
    assert taken.value.response["error"] == "name_already_exists"

    cid = slack.channel(f"groups-{uuid.uuid4().hex[:6]}", with_bot=False)
    slack.post_as(slack.alice, cid, f"<!subteam^{group['id']}|@{handle}> please look")
    status, unreads = bob.call("GET", f"/workspaces/{slack.team['wid']}/unreads")
    assert status == 200, unreads
    row = next(c for c in unreads["channels"] if c["channelId"] == cid)
    assert (row["unreadCount"], row["mentionCount"]) == (1, 1)


def test_disabling_and_enabling_a_user_group_through_slack_sdk(slack: Installed) -> None:
    """slack_sdk's usergroups_disable and usergroups_enable: a disabled group is listed only
    with include_disabled and its mention counts for nobody; enabled again, it counts."""
    created = install(slack.team, "Groups", ["usergroups:read", "usergroups:write"])
    client = slack.client_for(created["botToken"], retry_rate_limits=True)
    handle = f"pager{uuid.uuid4().hex[:6]}"
    group = client.usergroups_create(name="Pager", handle=handle)["usergroup"]
    bob = slack.team["bob"]
    client.usergroups_users_update(usergroup=group["id"], users=[bob.id])

    disabled = client.usergroups_disable(usergroup=group["id"])["usergroup"]
    assert disabled["date_delete"] > 0
    assert disabled["deleted_by"] == created["app"]["botUserId"]
    assert group["id"] not in [g["id"] for g in client.usergroups_list()["usergroups"]]
    every = client.usergroups_list(include_disabled=True)["usergroups"]
    assert [g["date_delete"] for g in every if g["id"] == group["id"]] == [disabled["date_delete"]]
    cid = slack.channel(f"pager-{uuid.uuid4().hex[:6]}", with_bot=False)
    slack.post_as(slack.alice, cid, f"<!subteam^{group['id']}|@{handle}> anyone?")

    enabled = client.usergroups_enable(usergroup=group["id"])["usergroup"]
    assert (enabled["date_delete"], enabled["deleted_by"]) == (0, None)
    assert group["id"] in [g["id"] for g in client.usergroups_list()["usergroups"]]
    slack.post_as(slack.alice, cid, f"<!subteam^{group['id']}|@{handle}> now?")
    status, unreads = bob.call("GET", f"/workspaces/{slack.team['wid']}/unreads")
    assert status == 200, unreads
    row = next(c for c in unreads["channels"] if c["channelId"] == cid)
    assert (row["unreadCount"], row["mentionCount"]) == (2, 1)


def test_bookmarks_and_archiving_through_slack_sdk(slack: Installed) -> None:
    """slack_sdk's bookmarks_* and conversations_archive/unarchive, as a Slack script calls
    them, against Parley's bookmarks and archiving."""
    scopes = ["bookmarks:read", "bookmarks:write", "channels:manage", "chat:write"]
    created = install(slack.team, "Team tools", scopes)
    client = slack.client_for(created["botToken"], retry_rate_limits=True)
    bot = created["app"]["botUserId"]
    cid = slack.channel(f"team-{uuid.uuid4().hex[:6]}", with_bot=False)
    assert slack.alice.call("POST", f"/channels/{cid}/members", {"userIds": [bot]})[0] == 200

    added = client.bookmarks_add(
        channel_id=cid, title="Runbook", type="link", link="https://wiki.example.com/rb"
    )["bookmark"]
    assert (added["channel_id"], added["title"], added["type"]) == (cid, "Runbook", "link")
    edited = client.bookmarks_edit(
        bookmark_id=added["id"], channel_id=cid, title="Runbook v2", emoji=":book:"
    )["bookmark"]
    assert (edited["title"], edited["emoji"]) == ("Runbook v2", ":book:")
    listed = client.bookmarks_list(channel_id=cid)["bookmarks"]
    assert [(b["id"], b["link"]) for b in listed] == [(added["id"], "https://wiki.example.com/rb")]
    _, mine = slack.alice.call("GET", f"/channels/{cid}/bookmarks")
    assert [b["title"] for b in mine["bookmarks"]] == ["Runbook v2"]
    bad = _error(
        client.bookmarks_add, channel_id=cid, title="x", type="link", link="javascript:alert(1)"
    )
    assert bad["error"] == "invalid_link"
    client.bookmarks_remove(bookmark_id=added["id"], channel_id=cid)
    assert client.bookmarks_list(channel_id=cid)["bookmarks"] == []

    assert client.conversations_archive(channel=cid)["ok"] is True
    assert _error(client.conversations_archive, channel=cid)["error"] == "already_archived"
    assert _error(client.chat_postMessage, channel=cid, text="hi")["error"] == "is_archived"
    status, refused = slack.alice.call("POST", f"/channels/{cid}/messages", {"text": "hi"})
    assert (status, refused["error"]["code"]) == (409, "conflict")
    members = {"userIds": [bot]}
    assert slack.alice.call("POST", f"/channels/{slack.general}/members", members)[0] == 200
    general = _error(client.conversations_archive, channel=slack.general)
    assert general["error"] == "cant_archive_general"
    assert client.conversations_unarchive(channel=cid)["ok"] is True
    assert _error(client.conversations_unarchive, channel=cid)["error"] == "not_archived"
    assert client.chat_postMessage(channel=cid, text="back")["ok"] is True


def test_scheduled_messages_and_reminders_through_slack_sdk(slack: Installed) -> None:
    """slack_sdk's chat_scheduleMessage makes a one-time schedule that the local scheduler
    fires (its clock advanced past post_at rather than waited for): the message is posted
    as the bot, live, and leaves the pending list; reminders_* and Slack's error codes."""
    client = slack.client
    cid = slack.channel(f"later-{uuid.uuid4().hex[:6]}")
    post_at = int(time.time()) + 120
    made = client.chat_scheduleMessage(channel=cid, text="deploy at noon", post_at=post_at)
    sid = made["scheduled_message_id"]
    assert (made["channel"], made["post_at"]) == (cid, post_at)
    listed = client.chat_scheduledMessages_list(channel=cid)["scheduled_messages"]
    assert [(m["id"], m["post_at"]) for m in listed] == [(sid, post_at)]
    with pytest.raises(SlackApiError) as past:
        client.chat_scheduleMessage(channel=cid, text="x", post_at=int(time.time()) - 5)
    assert past.value.response["error"] == "time_in_past"
    with pytest.raises(SlackApiError) as far:
        client.chat_scheduleMessage(channel=cid, text="x", post_at=post_at + 130 * 86400)
    assert far.value.response["error"] == "time_too_far"

    slack.stack.scheduler_clock.advance(125)
    try:
        deadline = time.monotonic() + 20
        texts: list[str] = []
        while time.monotonic() < deadline and "deploy at noon" not in texts:
            time.sleep(0.5)
            texts = [m["text"] for m in client.conversations_history(channel=cid)["messages"]]
    finally:
        slack.stack.scheduler_clock.advance(-125)
    assert texts.count("deploy at noon") == 1
    assert client.chat_scheduledMessages_list(channel=cid)["scheduled_messages"] == []
    with pytest.raises(SlackApiError) as gone:
        client.chat_deleteScheduledMessage(channel=cid, scheduled_message_id=sid)
    assert gone.value.response["error"] == "invalid_scheduled_message_id"

    reminding = install(slack.team, "Reminders", ["reminders:read", "reminders:write"])
    bot = slack.client_for(reminding["botToken"], retry_rate_limits=True)
    reminder = bot.reminders_add(text="stretch", time=int(time.time()) + 3600)["reminder"]
    assert [r["id"] for r in bot.reminders_list()["reminders"]] == [reminder["id"]]
    bot.reminders_delete(reminder=reminder["id"])
    assert bot.reminders_list()["reminders"] == []
    with pytest.raises(SlackApiError) as missing:
        bot.reminders_delete(reminder=reminder["id"])
    assert missing.value.response["error"] == "not_found"


def test_a_recurring_reminder_fires_and_schedules_its_next_occurrence(slack: Installed) -> None:
    """slack_sdk's reminders_add with words ("every day"): the local scheduler fires the
    first occurrence (its clock advanced past it) and the poster schedules the next one,
    a day later, through the stack's own schedules."""
    reminding = install(slack.team, "Daily", ["reminders:read", "reminders:write"])
    bot = slack.client_for(reminding["botToken"], retry_rate_limits=True)
    made = bot.reminders_add(text="stand-up", time="every day at 9am")["reminder"]
    assert (made["recurring"], made["recurrence"]) == (True, {"frequency": "daily"})
    first = made["time"]
    assert bot.reminders_add(text="x", time="in 15 minutes")["reminder"]["time"] > time.time()
    ahead = first - time.time() + 5
    slack.stack.scheduler_clock.advance(ahead)
    try:
        deadline = time.monotonic() + 20
        listed = bot.reminders_info(reminder=made["id"])["reminder"]
        while time.monotonic() < deadline and listed["time"] == first:
            time.sleep(0.5)
            listed = bot.reminders_info(reminder=made["id"])["reminder"]
    finally:
        slack.stack.scheduler_clock.advance(-ahead)
    assert listed["time"] == first + 86400
    assert listed["recurring"] is True
    bot.reminders_delete(reminder=made["id"])
    with pytest.raises(SlackApiError) as missing:
        bot.reminders_info(reminder=made["id"])
    assert missing.value.response["error"] == "not_found"


def test_a_bot_opens_a_dm_and_manages_a_channel_through_slack_sdk(slack: Installed) -> None:
    """What DM and workflow bots call: conversations_open then chat_postMessage to the DM
    (Bob reads it over HTTP), conversations_create, _invite, _setTopic, users_conversations,
    conversations_leave, team_info."""
    scopes = ["im:write", "chat:write", "channels:manage", "channels:read", "team:read"]
    manager = install(slack.team, "Manager", scopes)
    client = slack.client_for(manager["botToken"], retry_rate_limits=True)
    bob = slack.team["bob"]
    dm = client.conversations_open(users=bob.id)["channel"]["id"]
    client.chat_postMessage(channel=dm, text="your build is green")
    status, history = bob.call("GET", f"/channels/{dm}/messages")
    assert status == 200, history
    assert [m["text"] for m in history["messages"]] == ["your build is green"]
    assert client.conversations_open(users=bob.id, return_im=True)["channel"]["is_im"] is True

    name = f"rel-{uuid.uuid4().hex[:6]}"
    cid = client.conversations_create(name=name)["channel"]["id"]
    client.conversations_invite(channel=cid, users=[bob.id])
    assert (
        client.conversations_setTopic(channel=cid, topic="release train")["channel"]["topic"][
            "value"
        ]
        == "release train"
    )
    status, seen = bob.call("GET", f"/channels/{cid}")
    assert (status, seen["channel"]["topic"], seen["channel"]["isMember"]) == (
        200,
        "release train",
        True,
    )
    mine = client.users_conversations(types="public_channel")["channels"]
    assert cid in {c["id"] for c in mine}
    with pytest.raises(SlackApiError) as taken:
        client.conversations_create(name=name)
    assert taken.value.response["error"] == "name_taken"
    client.conversations_leave(channel=cid)
    assert cid not in {c["id"] for c in client.users_conversations()["channels"]}
    assert client.team_info()["team"]["id"] == slack.team["wid"]
