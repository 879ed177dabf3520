"""The WebSocket functions: the $connect authorizer, actions, error frames, disconnect."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from parley.adapters import cognito
from tests.functional.conftest import (
    ALICE,
    BOB,
    CAROL,
    Api,
    Context,
    RecordingPoster,
    load_function,
    sample_event,
    ws_event,
)

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_unit"
CLIENT = "unitclient"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def authorizer(poster: RecordingPoster, signing_key, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The authorizer with the pool's JWKS served from memory instead of over HTTP."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwks = {"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}
    monkeypatch.setattr(cognito, "fetch_jwks", lambda url: jwks)
    module = load_function("authorizer")
    module._verifier.cache_clear()
    return module


def token(key: rsa.RSAPrivateKey, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": BOB,
        "iss": ISSUER,
        "aud": CLIENT,
        "token_use": "id",
        "iat": now,
        "exp": now + 600,
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def authorize(module: Any, token_value: str | None, workspace_id: str | None) -> dict[str, Any]:
    event = sample_event("authorizer.json")
    event["queryStringParameters"] = {
        k: v for k, v in {"token": token_value, "workspaceId": workspace_id}.items() if v
    }
    return module.lambda_handler(event, Context())  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def effect(policy: dict[str, Any]) -> str:
    return policy["policyDocument"]["Statement"][0]["Effect"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def test_a_member_with_a_valid_token_is_allowed_with_context(
    authorizer: Any, signing_key, workspace: dict[str, str]
) -> None:
    policy = authorize(authorizer, token(signing_key), workspace["wid"])
    assert effect(policy) == "Allow"
    assert policy["principalId"] == BOB
    assert policy["context"] == {"userId": BOB, "workspaceId": workspace["wid"]}
    access = token(signing_key, aud=None, token_use="access", client_id=CLIENT)
    assert effect(authorize(authorizer, access, workspace["wid"])) == "Allow"


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://cognito-idp.us-east-1.amazonaws.com/other"},
        {"aud": "another-client"},
        {"exp": 1_000_000},
        {"token_use": "refresh"},
        {"token_use": "access", "aud": None, "client_id": "another-client"},
        {"sub": None},
    ],
)
def test_a_bad_token_is_unauthorized(
    authorizer: Any, signing_key, workspace: dict[str, str], overrides: dict[str, Any]
) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(authorizer, token(signing_key, **overrides), workspace["wid"])


def test_a_forged_missing_or_garbage_token_is_unauthorized(
    authorizer: Any, workspace: dict[str, str]
) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for value in (token(forger), None, "not.a.jwt", "x" * 5000):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorize(authorizer, value, workspace["wid"])


def test_a_workspace_the_user_is_not_in_is_denied(
    authorizer: Any, signing_key, workspace: dict[str, str]
) -> None:
    assert effect(authorize(authorizer, token(signing_key, sub=CAROL), workspace["wid"])) == "Deny"
    assert effect(authorize(authorizer, token(signing_key), None)) == "Deny"
    assert effect(authorize(authorizer, token(signing_key), "WNOSUCHTHING")) == "Deny"


def send(
    connection: str, user: str, wid: str, body: Any, sample: str = "ws_send_message.json"
) -> dict[str, Any]:
    function = {
        "ws_send_message.json": "ws_send_message",
        "ws_ping.json": "ws_ping",
        "ws_default-unknown-action.json": "ws_default",
    }[sample]
    reply = load_function(function).lambda_handler(
        ws_event(sample, connection, user, wid, body), Context()
    )
    assert reply["statusCode"] == 200
    return json.loads(reply["body"])  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def test_send_message_acks_the_sender_and_delivers_to_the_others(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    connect("alice-1", ALICE, wid)
    connect("alice-2", ALICE, wid)
    connect("bob-1", BOB, wid)
    frame = {"action": "sendMessage", "id": "c1", "channelId": cid, "text": "hi bob"}
    ack = send("alice-1", ALICE, wid, frame)
    assert ack["type"] == "ack"
    assert (ack["replyTo"], ack["ok"]) == ("c1", True)
    assert (ack["message"]["text"], ack["message"]["userId"]) == ("hi bob", ALICE)
    event = {"type": "message", "channelId": cid, "message": ack["message"]}
    assert poster.events("bob-1") == [event]
    assert poster.events("alice-2") == [event]
    assert poster.events("alice-1") == []  # the sender's own connection has the ack
    _, history = api("GET", f"/channels/{cid}/messages", user=BOB)
    assert history["messages"][0] == ack["message"]


def test_a_message_sent_with_blocks_reaches_the_others_with_them(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid, cid = workspace["wid"], workspace["general"]
    connect("bob-1", BOB, wid)
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Standup"}}]
    frame = {"action": "sendMessage", "id": "b1", "channelId": cid, "text": "", "blocks": blocks}
    ack = send("alice-1", ALICE, wid, frame)
    assert (ack["type"], ack["message"]["text"], ack["message"]["blocks"]) == ("ack", "", blocks)
    assert poster.events("bob-1") == [
        {"type": "message", "channelId": cid, "message": ack["message"]}
    ]
    _, history = api("GET", f"/channels/{cid}/messages", user=BOB)
    assert history["messages"][0] == ack["message"]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"action": "sendMessage", "id": 7, "text": "no channel"}, "invalid_request"),
        (
            {"action": "sendMessage", "id": 7, "channelId": "GENERAL", "blocks": [{"type": 2}]},
            "invalid_request",
        ),
        (
            {"action": "sendMessage", "id": 7, "channelId": "GENERAL", "blocks": []},
            "invalid_request",
        ),
        (
            {
                "action": "sendMessage",
                "id": 7,
                "channelId": "GENERAL",
                "blocks": [{"type": "section", "t": "x" * 1000}] * 50,
            },
            "too_large",
        ),
        ({"action": "sendMessage", "id": 7, "channelId": "CNOPE", "text": "x"}, "not_found"),
        ({"action": "sendMessage", "id": 7, "channelId": "GENERAL", "text": ""}, "invalid_request"),
        (
            {"action": "sendMessage", "id": 7, "channelId": "GENERAL", "text": "x" * 40_001},
            "too_large",
        ),
        (
            {"action": "sendMessage", "id": 7, "channelId": "GENERAL", "text": ["x"]},
            "invalid_request",
        ),
    ],
)
def test_send_message_errors_are_error_frames(
    workspace: dict[str, str], connect, poster: RecordingPoster, frame: dict[str, Any], code: str
) -> None:
    if frame.get("channelId") == "GENERAL":
        frame = {**frame, "channelId": workspace["general"]}
    reply = send("alice-1", ALICE, workspace["wid"], frame)
    assert reply["type"] == "error"
    assert reply["replyTo"] == 7
    assert reply["error"]["code"] == code
    assert reply["error"]["message"]


def test_a_connection_cannot_post_into_another_workspace(
    api: Api, workspace: dict[str, str]
) -> None:
    _, other = api("POST", "/workspaces", body={"name": "Other"})
    _, channels = api("GET", f"/workspaces/{other['workspace']['id']}/channels")
    frame = {"action": "sendMessage", "channelId": channels["channels"][0]["id"], "text": "x"}
    reply = send("alice-1", ALICE, workspace["wid"], frame)
    assert reply["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "reply_to", "says"),
    [
        ("{not json", None, "not valid JSON"),
        ("[1, 2]", None, "JSON object"),
        ('{"id": "x1"}', "x1", "no action"),
        ('{"action": "dance", "id": 3}', 3, "unknown action"),
        ("", None, "not valid JSON"),
        ("[" * 10_000 + "]" * 10_000, None, "nests too deeply"),
        ('{"id": "d1", "x": ' + "[" * 10_000 + "]" * 10_000 + "}", None, "nests too deeply"),
    ],
)
def test_frames_no_route_takes_get_error_frames(body: str, reply_to: Any, says: str) -> None:
    event = ws_event("ws_default-unknown-action.json", "c", ALICE, "W1", body)
    reply = load_function("ws_default").lambda_handler(event, Context())
    frame = json.loads(reply["body"])
    assert frame["type"] == "error"
    assert frame.get("replyTo") == reply_to
    assert frame["error"]["code"] == "invalid_request"
    assert says in frame["error"]["message"]


def test_binary_frames_get_an_error_frame() -> None:
    event = ws_event("ws_default-unknown-action.json", "c", ALICE, "W1", "eyJhY3Rpb24iOiAicGluZyJ9")
    event["isBase64Encoded"] = True  # API Gateway's binary frame: {"action": "ping"}, base64
    frame = json.loads(load_function("ws_default").lambda_handler(event, Context())["body"])
    assert frame["type"] == "error"
    assert "binary" in frame["error"]["message"]


def test_a_deeply_nested_field_of_a_routed_frame_crashes_nothing(
    workspace: dict[str, str], connect
) -> None:
    connect("alice-1", ALICE, workspace["wid"])
    body = '{"action": "ping", "id": "n1", "x": ' + "[" * 10_000 + "]" * 10_000 + "}"
    event = ws_event("ws_ping.json", "alice-1", ALICE, workspace["wid"], body)
    reply = load_function("ws_ping").lambda_handler(event, Context())
    # pydantic ignores the unknown field without descending into it; the frame is a ping.
    assert reply["statusCode"] == 200
    assert json.loads(reply["body"])["type"] == "pong"


def test_ping_answers_pong_and_extends_the_connection(workspace: dict[str, str], connect) -> None:
    from parley.adapters.dynamodb.base import get_or_none
    from parley.adapters.dynamodb.connections import connection_key
    from parley.adapters.dynamodb.items import ConnectionItem

    connect("alice-1", ALICE, workspace["wid"])
    before = get_or_none(ConnectionItem, *connection_key("alice-1"))
    assert before is not None
    time.sleep(1.1)
    reply = send("alice-1", ALICE, workspace["wid"], {"action": "ping", "id": "p1"}, "ws_ping.json")
    assert reply == {"type": "pong", "replyTo": "p1"}
    after = get_or_none(ConnectionItem, *connection_key("alice-1"))
    assert after is not None
    assert after.ttl > before.ttl


def test_disconnect_forgets_the_connection_and_tolerates_repeats(
    workspace: dict[str, str], connect
) -> None:
    from parley.adapters.dynamodb import connections

    connect("alice-1", ALICE, workspace["wid"])
    event = sample_event("ws_disconnect.json")
    event["requestContext"]["connectionId"] = "alice-1"
    handler = load_function("ws_disconnect").lambda_handler
    assert handler(event, Context())["statusCode"] == 200
    assert connections.get_connection("alice-1") is None
    assert connections.live_connections(workspace["wid"], [ALICE]) == {}
    assert handler(event, Context())["statusCode"] == 200
