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

from parley.apps.delivery import Reply
from parley.apps.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.unit.conftest import (
    ALICE,
    BOB,
    CAROL,
    TABLE,
    Api,
    Context,
    RecordingPoster,
    load_function,
    ws_event,
)

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
        return dict(urllib.parse.parse_qsl(self.requests[index][1].decode()))


def json_reply(text: str, response_type: str | None = None) -> Reply:
    body: dict[str, str] = {"text": text}
    if response_type:
        body["response_type"] = response_type
    return Reply(200, json.dumps(body).encode(), "application/json")


@pytest.fixture
def fake_app(monkeypatch: pytest.MonkeyPatch) -> FakeApp:
    from parley.apps import wiring as app_wiring

    fake = FakeApp(json_reply("only you see this"))
    monkeypatch.setattr(app_wiring, "http_poster", lambda config: fake)
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
    return created  # type: ignore[no-any-return]


def messages_of(api: Api, cid: str) -> list[str]:
    _, listed = api("GET", f"/channels/{cid}/messages")
    return [m["text"] for m in listed["messages"]]


def test_a_command_goes_to_its_app_signed_as_slack_does_and_is_not_posted(
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
        "message": None,
        "error": None,
    }
    url, body, headers, timeout = fake_app.requests[0]
    assert (url, timeout) == (COMMAND_URL, 3.0)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    verify(created["signingSecret"], headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], body)
    form = fake_app.form()
    assert {k: form[k] for k in ("command", "text", "team_id", "channel_id", "user_id")} == {
        "command": "/echo",
        "text": "hi  there",
        "team_id": wid,
        "channel_id": general,
        "user_id": ALICE,
    }
    assert form["api_app_id"] == created["app"]["id"]
    assert form["channel_name"] == "general"
    assert form["response_url"].split("/commands/")[1].startswith("pxr-")
    assert form["trigger_id"]
    assert messages_of(api, general) == []
    [ephemeral] = poster.events("alice-1", "ephemeral_message")
    assert ephemeral == {
        "type": "ephemeral_message",
        "channelId": general,
        "appId": created["app"]["id"],
        "text": "only you see this",
    }
    assert poster.frames["bob-1"] == []


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


def test_a_response_url_answers_five_times_then_404(
    api: Api,
    workspace: dict[str, str],
    fake_app: FakeApp,
    poster: RecordingPoster,
    connect: Callable[[str, str, str], None],
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    created = install(api, wid)
    connect("alice-1", ALICE, wid)
    fake_app.reply = Reply(200, b"")
    api("POST", f"/channels/{general}/messages", body={"text": "/echo later"})
    token = _response_token(fake_app)
    path = f"/commands/{token}"
    status, reply = api("POST", path, anonymous=True, body={"text": "later, privately"})
    assert (status, reply) == (200, {"responseType": "ephemeral", "message": None})
    assert poster.events("alice-1", "ephemeral_message")[-1]["text"] == "later, privately"
    status, reply = api(
        "POST", path, anonymous=True, body={"text": "later, aloud", "response_type": "in_channel"}
    )
    assert status == 201, reply
    assert reply["message"]["userId"] == created["app"]["botUserId"]
    for _ in range(3):
        assert api("POST", path, anonymous=True, body={"text": "again"})[0] == 200
    status, reply = api("POST", path, anonymous=True, body={"text": "a sixth"})
    assert status == 404, reply
    assert "used 5 times" in reply["error"]["message"]
    stored = [
        item
        for item in boto3.resource("dynamodb").Table(TABLE).scan()["Items"]
        if str(item["PK"]).startswith("CMDRESPONSE#")
    ]
    assert [item["PK"] for item in stored] != [f"CMDRESPONSE#{token}"]  # only its hash


def test_a_response_url_expires_and_bad_bodies_are_4xx(
    api: Api, workspace: dict[str, str], fake_app: FakeApp
) -> None:
    install(api, workspace["wid"])
    api("POST", f"/channels/{workspace['general']}/messages", body={"text": "/echo x"})
    path = f"/commands/{_response_token(fake_app)}"
    assert api("POST", path, anonymous=True, raw_body="{oops")[0] == 400
    assert api("POST", path, anonymous=True, body={"text": " "})[0] == 400
    assert api("POST", path, anonymous=True, body={"text": "x", "response_type": "shout"})[0] == 422
    assert api("POST", "/commands/pxr-unknown", anonymous=True, body={"text": "x"})[0] == 404
    table = boto3.resource("dynamodb").Table(TABLE)
    for item in table.scan()["Items"]:
        if str(item["PK"]).startswith("CMDRESPONSE#"):
            table.update_item(
                Key={"PK": item["PK"], "SK": item["SK"]},
                UpdateExpression="SET expires = :past",
                ExpressionAttributeValues={":past": 1},
            )
    assert api("POST", path, anonymous=True, body={"text": "too late"})[0] == 404


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
    from parley.store import commands as command_store

    wid, general = workspace["wid"], workspace["general"]
    install(api, wid)
    path = f"/channels/{general}/messages"
    # The first run is still waiting (staged: its claim is written, no result yet).
    command_store.claim_run(command_store.run_key(general, ALICE, "c-2"), 1_800_000_000)
    status, reply = api("POST", path, body={"text": "/echo hi", "clientMsgId": "c-2"})
    assert status == 409, reply
    assert fake_app.requests == []
    # A run refused before its app answered (a thread that does not exist) keeps no claim.
    body = {"text": "/echo hi", "clientMsgId": "c-3", "threadTs": "1700000000.000001"}
    assert api("POST", path, body=body)[0] == 404
    assert api("POST", path, body={"text": "/echo hi", "clientMsgId": "c-3"})[0] == 200
    assert len(fake_app.requests) == 1
