"""Slack's Web API at /api/{method}: Slack's parameters, replies, errors and scopes, over
the same domain as Parley's routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from parley.slack.scopes import SCOPES
from tests.functional.conftest import (
    ALICE,
    BOB,
    CAROL,
    TABLE,
    Api,
    RecordingPoster,
    SlackApi,
    post,
)

# Every scope a Web API method needs (`commands`, `app_mentions:read` and
# `incoming-webhook` are for commands, events and webhooks).
EVERY_SCOPE = [s for s in SCOPES if s not in {"commands", "app_mentions:read", "incoming-webhook"}]


def install(api: Api, wid: str, scopes: list[str] = EVERY_SCOPE) -> dict[str, str]:
    status, created = api(
        "POST", f"/workspaces/{wid}/apps", body={"name": "Deploys", "scopes": scopes}
    )
    assert status == 201, created
    return {
        "token": created["botToken"],
        "user": created["app"]["botUserId"],
        "id": created["app"]["id"],
    }


def add_to(api: Api, cid: str, bot: dict[str, str]) -> None:
    status, reply = api("POST", f"/channels/{cid}/members", body={"userIds": [bot["user"]]})
    assert status == 200, reply


@pytest.fixture
def bot(api: Api, workspace: dict[str, str]) -> dict[str, str]:
    """A bot with every scope, in #general."""
    installed = install(api, workspace["wid"])
    add_to(api, workspace["general"], installed)
    return installed


def ok(reply: tuple[int, dict[str, Any], dict[str, str]]) -> dict[str, Any]:
    status, body, _ = reply
    assert status == 200, body
    assert body["ok"] is True, body
    return body


def refused(reply: tuple[int, dict[str, Any], dict[str, str]]) -> str:
    status, body, _ = reply
    assert status == 200, body
    assert body["ok"] is False, body
    return str(body["error"])


def items() -> int:
    """How many items the table holds (to show that a refused call wrote nothing)."""
    table = boto3.resource("dynamodb").Table(TABLE)
    return sum(1 for item in table.scan()["Items"] if not str(item["PK"]).startswith("RATE#"))


# -------------------------------------------------------------------- tokens


def test_auth_test_names_the_bot_its_team_and_the_token_scopes(
    slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    status, body, headers = slack("auth.test", bot["token"], form={})
    assert status == 200
    assert body["ok"] is True
    assert (body["team_id"], body["user_id"], body["bot_id"]) == (
        workspace["wid"],
        bot["user"],
        bot["user"],
    )
    assert body["team"] == "Acme"
    assert body["app_id"] == bot["id"]
    assert body["url"].endswith("/")
    assert set(headers["X-OAuth-Scopes"].split(",")) == set(EVERY_SCOPE)


def test_bot_tokens_have_slacks_form(bot: dict[str, str]) -> None:
    assert bot["token"].startswith("xoxb-")


def test_no_token_is_not_authed_and_a_wrong_one_invalid_auth(
    slack: SlackApi, bot: dict[str, str]
) -> None:
    assert refused(slack("auth.test", None, form={})) == "not_authed"
    assert refused(slack("auth.test", "xoxb-not-a-token", form={})) == "invalid_auth"


def test_a_token_that_is_not_ascii_is_invalid_auth(slack: SlackApi) -> None:
    assert refused(slack("auth.test", None, json_body={"token": "xoxb-\ud800"})) == "invalid_auth"


def test_the_token_may_come_as_a_form_field_a_json_field_or_in_the_query(
    slack: SlackApi, bot: dict[str, str]
) -> None:
    assert ok(slack("auth.test", None, form={"token": bot["token"]}))["user_id"] == bot["user"]
    assert ok(slack("auth.test", None, json_body={"token": bot["token"]}))["user_id"] == bot["user"]
    assert ok(slack("auth.test", None, query={"token": bot["token"]}))["user_id"] == bot["user"]


def test_a_revoked_token_stops_working_at_once(
    api: Api, slack: SlackApi, bot: dict[str, str]
) -> None:
    ok(slack("auth.test", bot["token"], form={}))
    assert api("DELETE", f"/apps/{bot['id']}/token")[0] == 204
    assert refused(slack("auth.test", bot["token"], form={})) == "invalid_auth"


def test_an_unknown_method_is_unknown_method(slack: SlackApi, bot: dict[str, str]) -> None:
    assert refused(slack("chat.explode", bot["token"], form={})) == "unknown_method"


@pytest.mark.parametrize(
    ("raw", "content_type", "error"),
    [
        ("{not json", "application/json", "invalid_json"),
        ("[1, 2]", "application/json", "json_not_object"),
        ('"text"', "application/json", "json_not_object"),
        ("[" * 5000, "application/json", "invalid_json"),  # past the parser's stack
    ],
)
def test_a_body_slack_would_refuse_gets_slacks_error(
    slack: SlackApi, bot: dict[str, str], raw: str, content_type: str, error: str
) -> None:
    assert refused(slack("auth.test", bot["token"], raw=raw, content_type=content_type)) == error


# -------------------------------------------------------------------- messages


def test_post_message_as_json_reaches_the_channel_in_slacks_shape(
    slack: SlackApi,
    workspace: dict[str, str],
    bot: dict[str, str],
    connect: Callable[[str, str, str], None],
    poster: RecordingPoster,
) -> None:
    connect("conn-bob", BOB, workspace["wid"])
    body = ok(
        slack(
            "chat.postMessage",
            bot["token"],
            json_body={"channel": workspace["general"], "text": "build 12 is live"},
        )
    )
    assert body["channel"] == workspace["general"]
    message = body["message"]
    assert message["type"] == "message"
    assert (message["user"], message["bot_id"], message["app_id"]) == (
        bot["user"],
        bot["user"],
        bot["id"],
    )
    assert (message["text"], message["ts"]) == ("build 12 is live", body["ts"])
    delivered = poster.events("conn-bob", "message")
    assert [e["message"]["text"] for e in delivered] == ["build 12 is live"]
    assert delivered[0]["message"]["appId"] == bot["id"]


def test_post_message_takes_a_form_and_a_channel_name(
    slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    body = ok(slack("chat.postMessage", bot["token"], form={"channel": "#general", "text": "hi"}))
    assert body["channel"] == workspace["general"]


def test_post_message_without_text_is_no_text_and_writes_nothing(
    slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    before = items()
    assert (
        refused(
            slack("chat.postMessage", bot["token"], json_body={"channel": workspace["general"]})
        )
        == "no_text"
    )
    assert (
        refused(
            slack(
                "chat.postMessage",
                bot["token"],
                json_body={"channel": workspace["general"], "text": "  "},
            )
        )
        == "no_text"
    )
    assert items() == before


def test_post_message_without_a_channel_or_to_an_unknown_one_is_channel_not_found(
    slack: SlackApi, bot: dict[str, str]
) -> None:
    assert (
        refused(slack("chat.postMessage", bot["token"], json_body={"text": "x"}))
        == "channel_not_found"
    )
    assert (
        refused(slack("chat.postMessage", bot["token"], json_body={"channel": "C404", "text": "x"}))
        == "channel_not_found"
    )
    assert (
        refused(
            slack("chat.postMessage", bot["token"], json_body={"channel": "#nope", "text": "x"})
        )
        == "channel_not_found"
    )


def test_a_bot_posts_only_where_it_is_not_in_channel_otherwise(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    outsider = install(api, workspace["wid"])
    reply = slack(
        "chat.postMessage",
        outsider["token"],
        json_body={"channel": workspace["general"], "text": "x"},
    )
    assert refused(reply) == "not_in_channel"


def test_a_too_long_text_is_msg_too_long(
    slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    reply = slack(
        "chat.postMessage",
        bot["token"],
        json_body={"channel": workspace["general"], "text": "x" * 40_001},
    )
    assert refused(reply) == "msg_too_long"


def test_thread_replies_and_reply_broadcast(
    api: Api, slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    general = workspace["general"]
    parent = post(api, general, "release thread")["ts"]
    quiet = ok(
        slack(
            "chat.postMessage",
            bot["token"],
            json_body={"channel": general, "text": "step 1", "thread_ts": parent},
        )
    )
    loud = ok(
        slack(
            "chat.postMessage",
            bot["token"],
            json_body={
                "channel": general,
                "text": "done",
                "thread_ts": parent,
                "reply_broadcast": True,
            },
        )
    )
    assert quiet["message"]["thread_ts"] == parent
    assert loud["message"]["subtype"] == "thread_broadcast"
    history = ok(slack("conversations.history", bot["token"], query={"channel": general}))
    assert [m["text"] for m in history["messages"]] == ["done", "release thread"]
    assert history["messages"][1]["reply_count"] == 2
    replies = ok(
        slack("conversations.replies", bot["token"], query={"channel": general, "ts": parent})
    )
    assert [m["text"] for m in replies["messages"]] == ["release thread", "step 1", "done"]
    # asked with a reply's ts, Slack answers its thread
    again = ok(
        slack("conversations.replies", bot["token"], query={"channel": general, "ts": quiet["ts"]})
    )
    assert [m["ts"] for m in again["messages"]] == [m["ts"] for m in replies["messages"]]


def test_history_pages_with_slacks_cursor_and_bounds(
    api: Api, slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    general = workspace["general"]
    sent = [post(api, general, f"m{n}")["ts"] for n in range(5)]
    first = ok(
        slack("conversations.history", bot["token"], query={"channel": general, "limit": "2"})
    )
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    rest = ok(
        slack(
            "conversations.history",
            bot["token"],
            query={"channel": general, "limit": "10", "cursor": cursor},
        )
    )
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"]
    assert (rest["has_more"], rest["response_metadata"]["next_cursor"]) == (False, "")
    between = ok(
        slack(
            "conversations.history",
            bot["token"],
            query={"channel": general, "oldest": sent[1], "latest": sent[3]},
        )
    )
    assert [m["text"] for m in between["messages"]] == ["m2"]
    inclusive = ok(
        slack(
            "conversations.history",
            bot["token"],
            query={"channel": general, "oldest": sent[1], "latest": sent[3], "inclusive": "true"},
        )
    )
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1"]
    assert (
        refused(
            slack(
                "conversations.history",
                bot["token"],
                query={"channel": general, "cursor": "forged"},
            )
        )
        == "invalid_cursor"
    )
    assert (
        refused(
            slack(
                "conversations.history", bot["token"], query={"channel": general, "latest": "soon"}
            )
        )
        == "invalid_ts_latest"
    )


def test_update_and_delete_only_the_bots_own_messages(
    api: Api, slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    general = workspace["general"]
    mine = ok(
        slack("chat.postMessage", bot["token"], json_body={"channel": general, "text": "v1"})
    )["ts"]
    theirs = post(api, general, "alice's")["ts"]
    updated = ok(
        slack("chat.update", bot["token"], json_body={"channel": general, "ts": mine, "text": "v2"})
    )
    assert updated["text"] == "v2"
    assert updated["message"]["edited"]["user"] == bot["user"]
    assert (
        refused(
            slack(
                "chat.update",
                bot["token"],
                json_body={"channel": general, "ts": theirs, "text": "x"},
            )
        )
        == "cant_update_message"
    )
    assert (
        refused(slack("chat.delete", bot["token"], form={"channel": general, "ts": theirs}))
        == "cant_delete_message"
    )
    assert (
        refused(
            slack(
                "chat.update",
                bot["token"],
                json_body={"channel": general, "ts": "1111111111.000001", "text": "x"},
            )
        )
        == "message_not_found"
    )
    assert (
        ok(slack("chat.delete", bot["token"], form={"channel": general, "ts": mine}))["ts"] == mine
    )
    assert api("GET", f"/channels/{general}/messages/{mine}")[0] == 404


def test_post_ephemeral_reaches_only_that_users_connections(
    slack: SlackApi,
    workspace: dict[str, str],
    bot: dict[str, str],
    connect: Callable[[str, str, str], None],
    poster: RecordingPoster,
) -> None:
    general = workspace["general"]
    connect("conn-alice", ALICE, workspace["wid"])
    connect("conn-bob", BOB, workspace["wid"])
    before = items()
    body = ok(
        slack(
            "chat.postEphemeral",
            bot["token"],
            json_body={"channel": general, "user": BOB, "text": "psst"},
        )
    )
    assert body["message_ts"]
    assert [e["text"] for e in poster.events("conn-bob", "ephemeral_message")] == ["psst"]
    assert poster.events("conn-alice") == []
    assert items() == before, "an ephemeral message is never stored"
    reply = slack(
        "chat.postEphemeral",
        bot["token"],
        json_body={"channel": general, "user": CAROL, "text": "x"},
    )
    assert refused(reply) == "user_not_in_channel"


def test_get_permalink_names_the_message(
    api: Api, slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    ts = post(api, workspace["general"], "link me")["ts"]
    body = ok(
        slack(
            "chat.getPermalink",
            bot["token"],
            query={"channel": workspace["general"], "message_ts": ts},
        )
    )
    assert body["permalink"].endswith(f"/archives/{workspace['general']}/p{ts.replace('.', '')}")


# -------------------------------------------------------------------- conversations


def test_conversations_list_shows_public_channels_and_the_bots_private_ones_by_type(
    api: Api, slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    wid = workspace["wid"]
    _, public = api("POST", f"/workspaces/{wid}/channels", body={"name": "random"})
    _, hidden = api("POST", f"/workspaces/{wid}/channels", body={"name": "secret", "private": True})
    _, mine = api("POST", f"/workspaces/{wid}/channels", body={"name": "ops", "private": True})
    add_to(api, mine["channel"]["id"], bot)
    listed = ok(slack("conversations.list", bot["token"], query={}))
    assert {c["name"] for c in listed["channels"]} == {"general", "random"}
    general = next(c for c in listed["channels"] if c["name"] == "general")
    assert (general["is_channel"], general["is_member"], general["is_private"]) == (
        True,
        True,
        False,
    )
    random = next(c for c in listed["channels"] if c["name"] == "random")
    assert random["is_member"] is False
    both = ok(
        slack("conversations.list", bot["token"], query={"types": "public_channel,private_channel"})
    )
    assert {c["name"] for c in both["channels"]} == {"general", "random", "ops"}
    assert hidden["channel"]["id"] not in {c["id"] for c in both["channels"]}
    paged = ok(
        slack(
            "conversations.list",
            bot["token"],
            query={"types": "public_channel,private_channel", "limit": "2"},
        )
    )
    assert len(paged["channels"]) == 2
    assert paged["response_metadata"]["next_cursor"]
    assert public["channel"]["id"]
    assert (
        refused(slack("conversations.list", bot["token"], query={"types": "everything"}))
        == "invalid_types"
    )


def test_a_bot_joins_a_public_channel_and_then_reads_it(
    api: Api, slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    _, random = api("POST", f"/workspaces/{workspace['wid']}/channels", body={"name": "random"})
    cid = random["channel"]["id"]
    post(api, cid, "hello random")
    assert (
        refused(slack("conversations.history", bot["token"], query={"channel": cid}))
        == "not_in_channel"
    )
    joined = ok(slack("conversations.join", bot["token"], form={"channel": cid}))
    assert joined["channel"]["is_member"] is True
    assert "warning" not in joined
    again = ok(slack("conversations.join", bot["token"], form={"channel": cid}))
    assert again["warning"] == "already_in_channel"
    history = ok(slack("conversations.history", bot["token"], query={"channel": cid}))
    assert [m["text"] for m in history["messages"]] == ["hello random"]
    members = ok(slack("conversations.members", bot["token"], query={"channel": cid}))
    assert set(members["members"]) == {ALICE, bot["user"]}
    info = ok(slack("conversations.info", bot["token"], query={"channel": cid}))
    assert (info["channel"]["name"], info["channel"]["num_members"]) == ("random", 2)


# -------------------------------------------------------------------- reactions and pins


def test_reactions_as_slack_counts_them(
    api: Api, slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    general = workspace["general"]
    ts = post(api, general, "ship it?")["ts"]
    ok(
        slack(
            "reactions.add",
            bot["token"],
            form={"channel": general, "name": "rocket", "timestamp": ts},
        )
    )
    assert (
        refused(
            slack(
                "reactions.add",
                bot["token"],
                form={"channel": general, "name": "rocket", "timestamp": ts},
            )
        )
        == "already_reacted"
    )
    got = ok(slack("reactions.get", bot["token"], query={"channel": general, "timestamp": ts}))
    assert got["type"] == "message"
    assert got["message"]["reactions"] == [{"name": "rocket", "users": [bot["user"]], "count": 1}]
    ok(
        slack(
            "reactions.remove",
            bot["token"],
            form={"channel": general, "name": "rocket", "timestamp": ts},
        )
    )
    assert (
        refused(
            slack(
                "reactions.remove",
                bot["token"],
                form={"channel": general, "name": "rocket", "timestamp": ts},
            )
        )
        == "no_reaction"
    )
    assert (
        refused(
            slack(
                "reactions.add",
                bot["token"],
                form={"channel": general, "name": "NOT OK", "timestamp": ts},
            )
        )
        == "invalid_name"
    )
    assert (
        refused(
            slack(
                "reactions.add",
                bot["token"],
                form={"channel": general, "name": "x", "timestamp": "1"},
            )
        )
        == "message_not_found"
    )


def test_pins_as_slack_answers_them(
    api: Api, slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    general = workspace["general"]
    ts = post(api, general, "the runbook")["ts"]
    ok(slack("pins.add", bot["token"], form={"channel": general, "timestamp": ts}))
    assert (
        refused(slack("pins.add", bot["token"], form={"channel": general, "timestamp": ts}))
        == "already_pinned"
    )
    _, pinned = api("GET", f"/channels/{general}/pins")
    assert [m["ts"] for m in pinned["messages"]] == [ts]
    ok(slack("pins.remove", bot["token"], form={"channel": general, "timestamp": ts}))
    assert (
        refused(slack("pins.remove", bot["token"], form={"channel": general, "timestamp": ts}))
        == "no_pin"
    )


# -------------------------------------------------------------------- users


def test_users_info_list_and_lookup_by_email(
    api: Api, slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    info = ok(slack("users.info", bot["token"], query={"user": BOB}))["user"]
    assert (info["id"], info["team_id"], info["real_name"]) == (
        BOB,
        workspace["wid"],
        "Bob Example",
    )
    assert info["profile"]["email"] == "bob@example.com"
    assert (info["is_bot"], info["is_admin"]) == (False, False)
    listed = ok(slack("users.list", bot["token"], query={}))["members"]
    assert {m["id"] for m in listed} == {ALICE, BOB, bot["user"]}
    assert next(m for m in listed if m["id"] == bot["user"])["is_bot"] is True
    found = ok(slack("users.lookupByEmail", bot["token"], query={"email": "Alice@Example.com"}))
    assert found["user"]["id"] == ALICE
    # Carol has a profile but is not in the workspace; nobody has the last address
    assert (
        refused(slack("users.lookupByEmail", bot["token"], query={"email": "carol@example.com"}))
        == "users_not_found"
    )
    assert (
        refused(slack("users.lookupByEmail", bot["token"], query={"email": "nobody@example.com"}))
        == "users_not_found"
    )
    assert refused(slack("users.info", bot["token"], query={"user": CAROL})) == "user_not_found"


def test_emails_need_users_read_email(api: Api, slack: SlackApi, workspace: dict[str, str]) -> None:
    plain = install(api, workspace["wid"], ["users:read"])
    info = ok(slack("users.info", plain["token"], query={"user": BOB}))["user"]
    assert "email" not in info["profile"]


# -------------------------------------------------------------------- scopes


@pytest.mark.parametrize(
    ("method", "needed", "params"),
    [
        ("chat.postMessage", "chat:write", {"channel": "{general}", "text": "x"}),
        ("chat.update", "chat:write", {"channel": "{general}", "ts": "{ts}", "text": "x"}),
        ("chat.delete", "chat:write", {"channel": "{general}", "ts": "{ts}"}),
        ("chat.postEphemeral", "chat:write", {"channel": "{general}", "user": BOB, "text": "x"}),
        ("conversations.list", "channels:read", {}),
        ("conversations.info", "channels:read", {"channel": "{general}"}),
        ("conversations.members", "channels:read", {"channel": "{general}"}),
        ("conversations.history", "channels:history", {"channel": "{general}"}),
        ("conversations.replies", "channels:history", {"channel": "{general}", "ts": "{ts}"}),
        ("conversations.join", "channels:join", {"channel": "{general}"}),
        (
            "reactions.add",
            "reactions:write",
            {"channel": "{general}", "name": "x", "timestamp": "{ts}"},
        ),
        (
            "reactions.remove",
            "reactions:write",
            {"channel": "{general}", "name": "x", "timestamp": "{ts}"},
        ),
        ("reactions.get", "reactions:read", {"channel": "{general}", "timestamp": "{ts}"}),
        ("pins.add", "pins:write", {"channel": "{general}", "timestamp": "{ts}"}),
        ("pins.remove", "pins:write", {"channel": "{general}", "timestamp": "{ts}"}),
        ("users.info", "users:read", {"user": BOB}),
        ("users.list", "users:read", {}),
        ("users.lookupByEmail", "users:read.email", {"email": "bob@example.com"}),
        (
            "bookmarks.add",
            "bookmarks:write",
            {"channel_id": "{general}", "title": "x", "type": "link", "link": "https://a.example"},
        ),
        ("bookmarks.list", "bookmarks:read", {"channel_id": "{general}"}),
        ("conversations.archive", "channels:manage", {"channel": "{general}"}),
        ("conversations.unarchive", "channels:manage", {"channel": "{general}"}),
    ],
)
def test_each_method_without_its_scope_is_missing_scope_and_writes_nothing(
    api: Api,
    slack: SlackApi,
    workspace: dict[str, str],
    method: str,
    needed: str,
    params: dict[str, str],
) -> None:
    granted = [s for s in EVERY_SCOPE if s != needed]
    lacking = install(api, workspace["wid"], granted)
    add_to(api, workspace["general"], lacking)
    ts = post(api, workspace["general"], "target")["ts"]
    filled = {k: v.format(general=workspace["general"], ts=ts) for k, v in params.items()}
    before = items()
    status, body, headers = slack(method, lacking["token"], form=filled)
    assert (status, body["ok"], body["error"]) == (200, False, "missing_scope"), body
    assert needed in body["needed"].split(",")
    assert set(body["provided"].split(",")) == set(granted)
    assert needed in headers["X-Accepted-OAuth-Scopes"].split(",") or method.startswith(
        "conversations."
    )
    assert items() == before


def test_a_private_channel_needs_the_groups_scopes(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    only_public = install(
        api, workspace["wid"], ["channels:read", "channels:history", "chat:write"]
    )
    _, ops = api(
        "POST", f"/workspaces/{workspace['wid']}/channels", body={"name": "ops", "private": True}
    )
    add_to(api, ops["channel"]["id"], only_public)
    _, body, _ = slack(
        "conversations.history", only_public["token"], query={"channel": ops["channel"]["id"]}
    )
    assert (body["error"], body["needed"]) == ("missing_scope", "groups:history")
    assert (
        refused(
            slack("conversations.list", only_public["token"], query={"types": "private_channel"})
        )
        == "missing_scope"
    )


def test_an_app_made_before_slacks_scope_names_keeps_what_it_could_do(
    api: Api, slack: SlackApi, workspace: dict[str, str]
) -> None:
    """Its channels:read and channels:history covered private channels too."""
    from parley.adapters.dynamodb.items import AppItem, BotTokenItem

    old = install(api, workspace["wid"], ["channels:read", "channels:history", "chat:write"])
    for item in (AppItem.get(f"APP#{old['id']}", "APP"), *BotTokenItem.scan()):
        if getattr(item, "appId", None) == old["id"]:
            item.update(actions=[type(item).scopeNames.remove()])
    _, ops = api(
        "POST", f"/workspaces/{workspace['wid']}/channels", body={"name": "ops", "private": True}
    )
    add_to(api, ops["channel"]["id"], old)
    post(api, ops["channel"]["id"], "private history")
    history = ok(
        slack("conversations.history", old["token"], query={"channel": ops["channel"]["id"]})
    )
    assert [m["text"] for m in history["messages"]] == ["private history"]


# -------------------------------------------------------------------- private, the bot not in it


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("chat.postMessage", {"text": "x"}),
        ("chat.update", {"ts": "{ts}", "text": "x"}),
        ("chat.delete", {"ts": "{ts}"}),
        ("chat.postEphemeral", {"user": ALICE, "text": "x"}),
        ("chat.getPermalink", {"message_ts": "{ts}"}),
        ("conversations.info", {}),
        ("conversations.members", {}),
        ("conversations.history", {}),
        ("conversations.replies", {"ts": "{ts}"}),
        ("conversations.join", {}),
        ("reactions.add", {"name": "x", "timestamp": "{ts}"}),
        ("reactions.remove", {"name": "x", "timestamp": "{ts}"}),
        ("reactions.get", {"timestamp": "{ts}"}),
        ("pins.add", {"timestamp": "{ts}"}),
        ("pins.remove", {"timestamp": "{ts}"}),
    ],
)
def test_every_method_on_a_private_channel_the_bot_is_not_in_is_channel_not_found(
    api: Api,
    slack: SlackApi,
    workspace: dict[str, str],
    bot: dict[str, str],
    method: str,
    params: dict[str, str],
) -> None:
    _, secret = api(
        "POST", f"/workspaces/{workspace['wid']}/channels", body={"name": "secret", "private": True}
    )
    cid = secret["channel"]["id"]
    ts = post(api, cid, "not for the bot")["ts"]
    filled = {"channel": cid, **{k: v.format(ts=ts) for k, v in params.items()}}
    before = items()
    assert refused(slack(method, bot["token"], form=filled)) == "channel_not_found"
    assert items() == before


def test_a_bot_never_reaches_another_workspace(
    api: Api, slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    _, other = api("POST", "/workspaces", user=CAROL, body={"name": "Elsewhere"})
    _, listed = api("GET", f"/workspaces/{other['workspace']['id']}/channels", user=CAROL)
    theirs = listed["channels"][0]["id"]
    assert (
        refused(slack("conversations.info", bot["token"], query={"channel": theirs}))
        == "channel_not_found"
    )
    assert (
        refused(slack("conversations.join", bot["token"], form={"channel": theirs}))
        == "channel_not_found"
    )
    assert refused(slack("users.info", bot["token"], query={"user": CAROL})) == "user_not_found"


# -------------------------------------------------------------------- rate limits


def test_a_rate_limit_is_429_with_retry_after(
    slack: SlackApi, workspace: dict[str, str], bot: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.domain import ratelimits

    monkeypatch.setattr(ratelimits, "BOT", ratelimits.SendLimit(burst=1, per_second=0.25))
    ok(
        slack(
            "chat.postMessage",
            bot["token"],
            json_body={"channel": workspace["general"], "text": "1"},
        )
    )
    status, body, headers = slack(
        "chat.postMessage", bot["token"], json_body={"channel": workspace["general"], "text": "2"}
    )
    assert (status, body) == (429, {"ok": False, "error": "ratelimited"})
    assert int(headers["Retry-After"]) >= 1


# -------------------------------------------------------------------- blocks


def test_blocks_are_kept_returned_replaced_and_removed(
    slack: SlackApi, workspace: dict[str, str], bot: dict[str, str]
) -> None:
    general = workspace["general"]
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "*deployed*"}}
    posted = ok(
        slack("chat.postMessage", bot["token"], json_body={"channel": general, "blocks": [section]})
    )
    ts = posted["ts"]
    assert posted["message"]["blocks"] == [section]
    history = ok(slack("conversations.history", bot["token"], query={"channel": general}))
    assert history["messages"][0]["blocks"] == [section]
    header = {"type": "header", "text": {"type": "plain_text", "text": "v2"}}
    # form-encoded, blocks are their JSON text, as slack_sdk sends them
    import json

    ok(
        slack(
            "chat.update",
            bot["token"],
            form={"channel": general, "ts": ts, "text": "v2", "blocks": json.dumps([header])},
        )
    )
    again = ok(slack("conversations.history", bot["token"], query={"channel": general}))[
        "messages"
    ][0]
    assert (again["text"], again["blocks"]) == ("v2", [header])
    ok(
        slack(
            "chat.update",
            bot["token"],
            json_body={"channel": general, "ts": ts, "text": "v3", "blocks": []},
        )
    )
    last = ok(slack("conversations.history", bot["token"], query={"channel": general}))["messages"][
        0
    ]
    assert "blocks" not in last


@pytest.mark.parametrize(
    ("blocks", "error"),
    [
        ([{"text": "no type"}], "invalid_blocks"),
        ([{"type": "section"}] * 51, "invalid_blocks"),
        ("not json", "invalid_blocks_format"),
        (
            [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 60_000}}],
            "msg_blocks_too_long",
        ),
    ],
)
def test_bad_blocks_get_slacks_errors_and_write_nothing(
    slack: SlackApi, workspace: dict[str, str], bot: dict[str, str], blocks: Any, error: str
) -> None:
    before = items()
    reply = slack(
        "chat.postMessage",
        bot["token"],
        json_body={"channel": workspace["general"], "text": "x", "blocks": blocks},
    )
    assert refused(reply) == error
    assert items() == before
