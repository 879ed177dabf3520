"""Slash commands: `/name args` goes to the app that registered it, signed, and not to the
channel; the app's answer is shown to the invoker alone or posted as its bot; response_urls
answer later, 5 times within 30 minutes; an app that fails loses the invoker nothing."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import boto3
import pytest

from parley.apps.credentials import token_hash
from parley.apps.delivery import Reply
from parley.apps.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verification_token,
    verify,
)
from tests.functional.conftest import (
    ALICE,
    BOB,
    CAROL,
    TABLE,
    Api,
    Context,
    RecordingPoster,
    load_function,
    post,
    ws_event,
)
from tests.functional.test_webhooks import slack_post

COMMAND_URL = "https://echo.example.com/parley/commands"


class FakeApp:
    """The app's command URL: records each request, answers with `reply`."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.requests: list[tuple[str, bytes, dict[str, str], float]] = []

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Reply:
        self.requests.append((url, body, dict(headers), timeout))
        return self.reply

    def form(self, index: int = -1) -> dict[str, str]:
        return dict(
            urllib.parse.parse_qsl(self.requests[index][1].decode(), keep_blank_values=True)
        )


BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*all green*"}}]


def json_reply(text: str, response_type: str | None = None, **more: Any) -> Reply:
    body: dict[str, Any] = {"text": text, **more}
    if response_type:
        body["response_type"] = response_type
    return Reply(200, json.dumps(body).encode(), "application/json")


@pytest.fixture
def fake_app(monkeypatch: pytest.MonkeyPatch) -> FakeApp:
    from parley import wiring

    fake = FakeApp(json_reply("only you see this"))
    monkeypatch.setattr(wiring, "http_poster", lambda config: fake)
    return fake


def install(api: Api, wid: str, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "Echo",
        "scopes": ["chat:write"],
        "commands": ["/echo"],
        "commandUrl": COMMAND_URL,
        **extra,
    }
    status, created = api("POST", f"/workspaces/{wid}/apps", body=body)
    assert status == 201, created
    return created  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def messages_of(api: Api, cid: str) -> list[str]:
    _, listed = api("GET", f"/channels/{cid}/messages")
    return [m["text"] for m in listed["messages"]]


def test_a_command_goes_to_its_app_as_slacks_signed_form_and_is_not_posted(
    api: Api,
    workspace: dict[str, str],
    fake_app: FakeApp,
    poster: RecordingPoster,
    connect: Callable[[str, str, str], None],
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    created = install(api, wid)
    connect("alice-1", ALICE, wid)
    connect("bob-1", BOB, wid)
    status, reply = api("POST", f"/channels/{general}/messages", body={"text": "/echo hi  there"})
    assert status == 200, reply
    assert reply["command"] == {
        "command": "/echo",
        "text": "hi  there",
        "appId": created["app"]["id"],
        "ok": True,
        "responseType": "ephemeral",
        "replyText": "only you see this",
        "replyBlocks": None,
        "message": None,
        "error": None,
    }
    url, body, headers, timeout = fake_app.requests[0]
    assert (url, timeout) == (COMMAND_URL, 3.0)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    verify(created["signingSecret"], headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], body)
    form = fake_app.form()
    response_url, trigger_id = form.pop("response_url"), form.pop("trigger_id")
    assert form == {
        # Slack's deprecated verification token, as the app's events carry it.
        "token": verification_token(created["signingSecret"]),
        "team_id": wid,
        "team_domain": "acme",
        "channel_id": general,
        "channel_name": "general",
        "user_id": ALICE,
        "user_name": "alice",
        "command": "/echo",
        "text": "hi  there",
        "api_app_id": created["app"]["id"],
        "is_enterprise_install": "false",
    }
    assert response_url.startswith("https://")
    assert "/commands/pxr-" in response_url
    assert trigger_id
    assert messages_of(api, general) == []
    [ephemeral] = poster.events("alice-1", "ephemeral_message")
    assert ephemeral == {
        "type": "ephemeral_message",
        "channelId": general,
        "appId": created["app"]["id"],
        "ts": ephemeral["ts"],
        "text": "only you see this",
    }
    assert poster.frames["bob-1"] == []


def test_a_command_in_a_thread_names_it_and_its_answers_stay_there(
    api: Api,
    workspace: dict[str, str],
    fake_app: FakeApp,
    poster: RecordingPoster,
    connect: Callable[[str, str, str], None],
) -> None:
    general = workspace["general"]
    install(api, workspace["wid"])
    parent = post(api, general, "deploy?")
    connect("alice-1", ALICE, workspace["wid"])
    body = {"text": "/echo in a thread", "threadTs": parent["ts"]}
    assert api("POST", f"/channels/{general}/messages", body=body)[0] == 200
    assert fake_app.form()["thread_ts"] == parent["ts"]
    assert poster.events("alice-1", "ephemeral_message")[0]["threadTs"] == parent["ts"]
    fake_app.reply = json_reply("aloud, in the thread", "in_channel")
    api("POST", f"/channels/{general}/messages", body=body)
    _, replies = api("GET", f"/channels/{general}/messages/{parent['ts']}/replies")
    assert [m["text"] for m in replies["messages"]] == ["aloud, in the thread"]


def test_blocks_travel_with_the_answer_ephemeral_or_in_channel(
    api: Api,
    workspace: dict[str, str],
    fake_app: FakeApp,
    poster: RecordingPoster,
    connect: Callable[[str, str, str], None],
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    install(api, wid)
    connect("alice-1", ALICE, wid)
    connect("alice-2", ALICE, wid)
    fake_app.reply = json_reply("status", blocks=BLOCKS)
    frame = {"action": "sendMessage", "id": "c1", "channelId": general, "text": "/echo status"}
    event = ws_event("ws_send_message.json", "alice-1", ALICE, wid, frame)
    ack = json.loads(load_function("ws_send_message").lambda_handler(event, Context())["body"])
    assert (ack["command"]["replyText"], ack["command"]["replyBlocks"]) == ("status", BLOCKS)
    assert poster.events("alice-2", "ephemeral_message")[0]["blocks"] == BLOCKS
    fake_app.reply = json_reply("status", "in_channel", blocks=BLOCKS)
    _, reply = api("POST", f"/channels/{general}/messages", body={"text": "/echo status"})
    assert reply["command"]["message"]["blocks"] == BLOCKS
    _, listed = api("GET", f"/channels/{general}/messages")
    assert listed["messages"][0]["blocks"] == BLOCKS


def test_an_in_channel_answer_is_posted_as_the_bot_even_outside_the_channel(
    api: Api,
    workspace: dict[str, str],
    fake_app: FakeApp,
    poster: RecordingPoster,
    connect: Callable[[str, str, str], None],
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    created = install(api, wid)
    connect("bob-1", BOB, wid)
    fake_app.reply = json_reply("echo: hi", "in_channel")
    status, reply = api("POST", f"/channels/{general}/messages", body={"text": "/echo hi"})
    assert status == 200, reply
    assert reply["command"]["responseType"] == "in_channel"
    assert reply["command"]["message"]["userId"] == created["app"]["botUserId"]
    assert messages_of(api, general) == ["echo: hi"]
    [event] = poster.events("bob-1", "message")
    assert event["message"]["text"] == "echo: hi"
    _, members = api("GET", f"/channels/{general}/members")
    assert created["app"]["botUserId"] not in [m["id"] for m in members["members"]]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(0), "app_unreachable"),
        (Reply(500), "app_error"),
        (Reply(200, b"{not json", "application/json"), "app_error"),
        (Reply(200, b'["text"]', "application/json"), "app_error"),
        (json_reply("x", "shout"), "app_error"),
        (json_reply("x", "in_channel", blocks=[{"no": "type"}]), "app_error"),
        (json_reply("x" * 40_001, "in_channel"), "app_error"),  # refused by the domain
    ],
    ids=[
        "no answer",
        "500",
        "not json",
        "not an object",
        "unknown response_type",
        "bad blocks",
        "text too long",
    ],
)
def test_an_app_that_fails_gives_the_invoker_a_notice_and_posts_nothing(
    api: Api, workspace: dict[str, str], fake_app: FakeApp, reply: Reply, error: str
) -> None:
    install(api, workspace["wid"])
    fake_app.reply = reply
    status, answer = api(
        "POST", f"/channels/{workspace['general']}/messages", body={"text": "/echo keep me"}
    )
    assert status == 200, answer
    result = answer["command"]
    assert (result["ok"], result["error"], result["responseType"]) == (False, error, "ephemeral")
    assert "/echo keep me" in result["replyText"]  # nothing lost: the command comes back
    assert messages_of(api, workspace["general"]) == []


def test_an_empty_answer_acknowledges_and_plain_text_is_ephemeral(
    api: Api, workspace: dict[str, str], fake_app: FakeApp
) -> None:
    install(api, workspace["wid"])
    path = f"/channels/{workspace['general']}/messages"
    fake_app.reply = Reply(200, b"")
    assert api("POST", path, body={"text": "/echo"})[1]["command"]["responseType"] == "none"
    fake_app.reply = Reply(200, b'{"text": ""}', "application/json")  # Bolt's ack("")
    assert api("POST", path, body={"text": "/echo"})[1]["command"]["responseType"] == "none"
    fake_app.reply = Reply(200, b"plain answer", "text/plain")
    result = api("POST", path, body={"text": "/echo"})[1]["command"]
    assert (result["responseType"], result["replyText"]) == ("ephemeral", "plain answer")


def test_an_unknown_command_is_a_clear_400_and_a_path_is_ordinary_text(
    api: Api, workspace: dict[str, str], fake_app: FakeApp
) -> None:
    install(api, workspace["wid"])
    path = f"/channels/{workspace['general']}/messages"
    status, reply = api("POST", path, body={"text": "/nope now"})
    assert status == 400
    assert reply["error"]["code"] == "invalid_request"
    assert "/nope is not a valid command" in reply["error"]["message"]
    assert api("POST", path, body={"text": "/usr/bin is a path"})[0] == 201
    assert api("POST", path, body={"text": " /echo as text"})[0] == 201
    assert fake_app.requests == []


def test_only_the_channels_members_may_run_a_command(
    api: Api, workspace: dict[str, str], fake_app: FakeApp
) -> None:
    wid = workspace["wid"]
    install(api, wid)
    _, channel = api("POST", f"/workspaces/{wid}/channels", body={"name": "ops"})
    path = f"/channels/{channel['channel']['id']}/messages"
    assert api("POST", path, user=BOB, body={"text": "/echo hi"})[0] == 403
    assert api("POST", path, user=CAROL, body={"text": "/echo hi"})[0] == 404
    assert fake_app.requests == []


def test_a_command_name_belongs_to_one_app_of_the_workspace(
    api: Api, workspace: dict[str, str], fake_app: FakeApp
) -> None:
    install(api, workspace["wid"])
    body = {"name": "Copy", "scopes": ["chat:write"], "commands": ["/echo"]}
    status, reply = api("POST", f"/workspaces/{workspace['wid']}/apps", body=body)
    assert status == 409, reply


def _response_token(fake_app: FakeApp) -> str:
    return fake_app.form()["response_url"].split("/commands/")[1]


def respond(token: str, body: Any, content_type: str = "application/json") -> tuple[int, Any]:
    """POSTs to a response_url as Bolt's respond() does; the status and its JSON answer."""
    status, headers, text = slack_post(f"/commands/{token}", body, content_type)
    assert headers["Content-Type"] == "application/json", headers
    return status, json.loads(text)


def test_a_response_url_answers_ok_five_times_then_used_url(
    api: Api,
    workspace: dict[str, str],
    fake_app: FakeApp,
    poster: RecordingPoster,
    connect: Callable[[str, str, str], None],
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    created = install(api, wid)
    connect("alice-1", ALICE, wid)
    connect("bob-1", BOB, wid)
    fake_app.reply = Reply(200, b"")
    api("POST", f"/channels/{general}/messages", body={"text": "/echo later"})
    token = _response_token(fake_app)
    assert respond(token, {"text": "later, privately"}) == (200, {"ok": True})
    [later] = poster.events("alice-1", "ephemeral_message")
    assert (later["text"], later["appId"]) == ("later, privately", created["app"]["id"])
    aloud = {"text": "later, aloud", "blocks": BLOCKS, "response_type": "in_channel"}
    assert respond(token, aloud) == (200, {"ok": True})
    [message] = [e["message"] for e in poster.events("bob-1", "message")]
    assert (message["userId"], message["blocks"]) == (created["app"]["botUserId"], BLOCKS)
    assert poster.events("bob-1", "ephemeral_message") == []
    for n in range(3):
        assert respond(token, {"text": f"again {n}"}) == (200, {"ok": True})
    assert respond(token, {"text": "a sixth"}) == (404, {"ok": False, "error": "used_url"})
    stored = [
        item
        for item in boto3.resource("dynamodb").Table(TABLE).scan()["Items"]
        if str(item["PK"]).startswith("CMDRESPONSE#")
    ]
    assert [item["PK"] for item in stored] != [f"CMDRESPONSE#{token}"]  # only its hash


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("{oops", 400, "invalid_payload"),
        ('["text"]', 400, "invalid_payload"),
        ('{"text": "x", "response_type": "shout"}', 400, "invalid_payload"),
        ('{"text": " "}', 400, "no_text"),
        ('{"text": "x", "blocks": [{"no": "type"}]}', 400, "invalid_blocks"),
        (json.dumps({"text": "x" * 40_001}), 400, "msg_too_long"),
        (
            '{"text": "x", "thread_ts": "1700000000.000001", "response_type": "in_channel"}',
            404,
            "thread_not_found",
        ),
    ],
    ids=[
        "not json",
        "not an object",
        "unknown response_type",
        "no text",
        "bad blocks",
        "text too long",
        "no such thread",
    ],
)
def test_a_bad_answer_to_a_response_url_gets_slacks_error(
    api: Api, workspace: dict[str, str], fake_app: FakeApp, body: str, status: int, error: str
) -> None:
    install(api, workspace["wid"])
    api("POST", f"/channels/{workspace['general']}/messages", body={"text": "/echo x"})
    assert respond(_response_token(fake_app), body) == (status, {"ok": False, "error": error})
    assert messages_of(api, workspace["general"]) == []


def test_a_response_url_expires_or_dies_with_its_app_as_expired_url(
    api: Api, workspace: dict[str, str], fake_app: FakeApp
) -> None:
    created = install(api, workspace["wid"])
    path = f"/channels/{workspace['general']}/messages"
    api("POST", path, body={"text": "/echo x"})
    first = _response_token(fake_app)
    api("POST", path, body={"text": "/echo y"})
    second = _response_token(fake_app)
    gone = (404, {"ok": False, "error": "expired_url"})
    assert respond("pxr-unknown", {"text": "x"}) == gone
    table = boto3.resource("dynamodb").Table(TABLE)
    for item in table.scan()["Items"]:
        if item["PK"] == f"CMDRESPONSE#{token_hash(first)}":
            table.update_item(
                Key={"PK": item["PK"], "SK": item["SK"]},
                UpdateExpression="SET expires = :past",
                ExpressionAttributeValues={":past": 1},
            )
    assert respond(first, {"text": "too late"}) == gone
    assert respond(second, {"text": "in time"}) == (200, {"ok": True})
    api("DELETE", f"/apps/{created['app']['id']}")
    assert respond(second, {"text": "app gone"}) == gone


def test_an_invoker_who_left_the_channel_gets_no_more_answers(
    api: Api, workspace: dict[str, str], fake_app: FakeApp
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    install(api, wid)
    api("POST", f"/channels/{general}/messages", user=BOB, body={"text": "/echo x"})
    api("POST", f"/channels/{general}/leave", user=BOB)
    token = _response_token(fake_app)
    refused = (403, {"ok": False, "error": "action_prohibited"})
    assert respond(token, {"text": "for bob"}) == refused
    assert respond(token, {"text": "aloud", "response_type": "in_channel"}) == refused
    assert messages_of(api, general) == []


def test_an_in_channel_answer_replaced_then_deleted_through_the_response_url(
    api: Api,
    workspace: dict[str, str],
    fake_app: FakeApp,
    poster: RecordingPoster,
    connect: Callable[[str, str, str], None],
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    install(api, wid)
    connect("bob-1", BOB, wid)
    fake_app.reply = json_reply("deploying...", "in_channel")
    _, reply = api("POST", f"/channels/{general}/messages", body={"text": "/echo deploy"})
    ts = reply["command"]["message"]["ts"]
    token = _response_token(fake_app)
    done = {"text": "deployed", "blocks": BLOCKS, "replace_original": True}
    assert respond(token, done) == (200, {"ok": True})
    [changed] = poster.events("bob-1", "message_changed")
    assert (changed["message"]["ts"], changed["message"]["text"]) == (ts, "deployed")
    assert changed["message"]["blocks"] == BLOCKS
    assert messages_of(api, general) == ["deployed"]
    assert respond(token, {"text": "", "delete_original": True}) == (200, {"ok": True})
    assert poster.events("bob-1", "message_deleted")[0]["ts"] == ts
    assert messages_of(api, general) == []
    # Nothing is left to replace: the next answer is a new one.
    again = {"text": "again", "response_type": "in_channel", "replace_original": True}
    assert respond(token, again) == (200, {"ok": True})
    assert messages_of(api, general) == ["again"]


def test_an_ephemeral_answer_replaced_then_deleted_keeps_its_ts(
    api: Api,
    workspace: dict[str, str],
    fake_app: FakeApp,
    poster: RecordingPoster,
    connect: Callable[[str, str, str], None],
) -> None:
    """Bolt's `ack("Working...")` then `respond(replace_original=True)`: the invoker's
    client shows the answer that carries the first one's ts in its place."""
    wid, general = workspace["wid"], workspace["general"]
    install(api, wid)
    connect("alice-1", ALICE, wid)
    fake_app.reply = json_reply("working...")
    api("POST", f"/channels/{general}/messages", body={"text": "/echo job"})
    token = _response_token(fake_app)
    [working] = poster.events("alice-1", "ephemeral_message")
    assert respond(token, {"text": "done", "replace_original": True}) == (200, {"ok": True})
    done = poster.events("alice-1", "ephemeral_message")[-1]
    assert (done["text"], done["ts"]) == ("done", working["ts"])
    assert respond(token, {"delete_original": True}) == (200, {"ok": True})
    [deleted] = poster.events("alice-1", "ephemeral_deleted")
    assert deleted == {"type": "ephemeral_deleted", "channelId": general, "ts": working["ts"]}
    assert messages_of(api, general) == []


def test_answers_in_the_channel_share_the_bots_rate_limit(
    api: Api, workspace: dict[str, str], fake_app: FakeApp
) -> None:
    install(api, workspace["wid"])
    fake_app.reply = Reply(200, b"")
    api("POST", f"/channels/{workspace['general']}/messages", body={"text": "/echo x"})
    token = _response_token(fake_app)
    aloud = {"text": "aloud", "response_type": "in_channel"}
    answers = [slack_post(f"/commands/{token}", aloud) for _ in range(4)]
    assert [status for status, _, _ in answers] == [200, 200, 200, 429]
    _, headers, text = answers[-1]
    assert (json.loads(text), headers["Retry-After"]) == (
        {"ok": False, "error": "rate_limited"},
        "1",
    )


def test_over_the_websocket_the_ack_carries_the_result_and_other_tabs_get_the_event(
    api: Api,
    workspace: dict[str, str],
    fake_app: FakeApp,
    poster: RecordingPoster,
    connect: Callable[[str, str, str], None],
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    install(api, wid)
    connect("alice-1", ALICE, wid)
    connect("alice-2", ALICE, wid)
    frame = {"action": "sendMessage", "id": "c1", "channelId": general, "text": "/echo ws"}
    event = ws_event("ws_send_message.json", "alice-1", ALICE, wid, frame)
    ack = json.loads(load_function("ws_send_message").lambda_handler(event, Context())["body"])
    assert (ack["type"], ack["replyTo"], ack["ok"]) == ("ack", "c1", True)
    assert ack["command"]["replyText"] == "only you see this"
    assert "message" not in ack
    assert poster.events("alice-1", "ephemeral_message") == []
    assert poster.events("alice-2", "ephemeral_message")[0]["text"] == "only you see this"
    assert fake_app.form()["response_url"].startswith("https://")  # the HTTP API's URL


def test_a_command_retried_with_its_client_msg_id_calls_the_app_once(
    api: Api, workspace: dict[str, str], fake_app: FakeApp
) -> None:
    """As a repeated clientMsgId returns the first message, a repeated command returns the
    first run's result: the app is not called again, nothing is posted twice."""
    wid, general = workspace["wid"], workspace["general"]
    install(api, wid)
    fake_app.reply = json_reply("echo: hi", "in_channel")
    path = f"/channels/{general}/messages"
    body = {"text": "/echo hi", "clientMsgId": "c-1"}
    first = api("POST", path, body=body)
    again = api("POST", path, body=body)
    assert first[0] == again[0] == 200
    assert again[1] == first[1]
    assert first[1]["command"]["message"]["text"] == "echo: hi"
    assert len(fake_app.requests) == 1
    assert messages_of(api, general) == ["echo: hi"]
    # Another person's clientMsgId is theirs: the same id from Bob is a new run.
    api("POST", f"/channels/{general}/join", user=BOB)
    assert api("POST", path, user=BOB, body=body)[0] == 200
    assert len(fake_app.requests) == 2


def test_a_retry_while_the_first_run_waits_for_its_app_is_a_409_and_a_refused_run_frees_its_id(
    api: Api, workspace: dict[str, str], fake_app: FakeApp
) -> None:
    from parley.adapters.dynamodb import commands as command_store

    wid, general = workspace["wid"], workspace["general"]
    install(api, wid)
    path = f"/channels/{general}/messages"
    # The first run is still waiting (staged: its claim is written, no result yet).
    command_store.claim_run(general, ALICE, "c-2", 1_800_000_000)
    status, reply = api("POST", path, body={"text": "/echo hi", "clientMsgId": "c-2"})
    assert status == 409, reply
    assert fake_app.requests == []
    # A run refused before its app answered (a thread that does not exist) keeps no claim.
    body = {"text": "/echo hi", "clientMsgId": "c-3", "threadTs": "1700000000.000001"}
    assert api("POST", path, body=body)[0] == 404
    assert api("POST", path, body={"text": "/echo hi", "clientMsgId": "c-3"})[0] == 200
    assert len(fake_app.requests) == 1
