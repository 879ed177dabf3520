"""docs/asyncapi.yaml, the WebSocket API's document: its structure (AsyncAPI 3.0's, as far
as a client generator reads it), every frame and event the code sends listed, and the
frames a real exchange produces valid against it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import referencing
import referencing.jsonschema
import yaml

from tests.functional.conftest import (
    ALICE,
    BOB,
    ROOT,
    Api,
    Context,
    RecordingPoster,
    load_function,
    post,
    template,
    ws_event,
)

DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
OPENAPI = ROOT / "docs" / "openapi.json"
LAYER = ROOT / "layers" / "parley" / "parley"
# Where frames and events are made: the domain, the WebSocket edge, the WebSocket functions.
SENDERS = [
    *(p for p in sorted((LAYER / "domain").glob("*.py")) if p.name != "blocks.py"),
    LAYER / "edge" / "websocket.py",
    *sorted((ROOT / "functions").glob("ws_*/app.py")),
]
_TYPE = re.compile(r'"type":\s*"([a-z_]+)"(?:\s+if\s+[^\n]*?\s+else\s+"([a-z_]+)")?')
_REF = {"type": "object", "required": ["$ref"], "properties": {"$ref": {"type": "string"}}}

# AsyncAPI 3.0's structure, the parts this document uses and a code generator reads.
STRUCTURE: dict[str, Any] = {
    "type": "object",
    "required": ["asyncapi", "info", "servers", "channels", "operations"],
    "properties": {
        "asyncapi": {"const": "3.0.0"},
        "info": {
            "type": "object",
            "required": ["title", "version"],
            "properties": {"title": {"type": "string"}, "version": {"type": "string"}},
        },
        "defaultContentType": {"type": "string"},
        "servers": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "required": ["host", "protocol"],
                "properties": {
                    "host": {"type": "string"},
                    "protocol": {"enum": ["ws", "wss"]},
                    "pathname": {"type": "string", "pattern": "^/"},
                    "security": {"type": "array", "items": _REF},
                },
            },
        },
        "channels": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["address", "messages"],
                "properties": {
                    "address": {"type": ["string", "null"]},
                    "messages": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "required": ["name", "payload"],
                            "properties": {
                                "name": {"type": "string"},
                                "summary": {"type": "string"},
                                "payload": {"type": "object"},
                                "examples": {
                                    "type": "array",
                                    "items": {"type": "object", "required": ["payload"]},
                                },
                            },
                        },
                    },
                },
            },
        },
        "operations": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["action", "channel", "messages"],
                "properties": {
                    "action": {"enum": ["send", "receive"]},
                    "channel": _REF,
                    "messages": {"type": "array", "minItems": 1, "items": _REF},
                    "reply": {
                        "type": "object",
                        "properties": {"messages": {"type": "array", "items": _REF}},
                    },
                },
            },
        },
        "components": {"type": "object"},
    },
}


def load() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text())  # type: ignore[no-any-return]  # a YAML document


def _registry(document: dict[str, Any]) -> referencing.Registry:
    resource = referencing.jsonschema.DRAFT202012.create_resource
    return referencing.Registry().with_resources(
        [
            ("urn:asyncapi", resource(document)),
            ("urn:openapi.json", resource(json.loads(OPENAPI.read_text()))),
        ]
    )


def _rooted(schema: Any) -> Any:
    """The payload's refs made absolute: `openapi.json#...` and the document's own `#...`."""
    text = json.dumps(schema).replace('"openapi.json#', '"urn:openapi.json#')
    return json.loads(text.replace('"#/', '"urn:asyncapi#/'))


def _messages(document: dict[str, Any]) -> dict[str, Any]:
    return document["channels"]["workspace"]["messages"]  # type: ignore[no-any-return]  # a YAML document


def _validator(document: dict[str, Any], name: str) -> jsonschema.protocols.Validator:
    payload = _rooted(_messages(document)[name]["payload"])
    return jsonschema.Draft202012Validator(payload, registry=_registry(document))


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    where, _, pointer = ref.partition("#")
    node: Any = json.loads(OPENAPI.read_text()) if where == "openapi.json" else document
    assert where in ("", "openapi.json"), ref
    for part in pointer.strip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def problems(document: dict[str, Any]) -> list[str]:
    found = [
        f"structure: {e.message}"
        for e in jsonschema.Draft202012Validator(STRUCTURE).iter_errors(document)
    ]
    for ref in _refs(document):
        try:
            _resolve(document, ref)
        except (KeyError, TypeError):
            found.append(f"unresolved $ref {ref}")
    if found:
        return found
    for name, message in _messages(document).items():
        try:
            jsonschema.Draft202012Validator.check_schema(message["payload"])
        except jsonschema.SchemaError as error:
            found.append(f"{name}: its payload is no JSON Schema: {error.message}")
            continue
        validator = _validator(document, name)
        for example in message.get("examples", []):
            found += [
                f"{name} example: {e.message}" for e in validator.iter_errors(example["payload"])
            ]
    return found


def test_the_document_has_asyncapis_structure_and_its_refs_and_examples_hold() -> None:
    assert problems(load()) == []


BROKEN = {
    "another version": lambda d: d.update(asyncapi="2.6.0"),
    "an operation on a channel that is not there": lambda d: d["operations"]["sendPing"].update(
        channel={"$ref": "#/channels/lobby"}
    ),
    "an example that does not fit": lambda d: _messages(d)["message_deleted"]["examples"][0][
        "payload"
    ].pop("ts"),
    "a payload that is no schema": lambda d: _messages(d)["pong"].update(payload={"type": 5}),
    "a server without protocol": lambda d: d["servers"]["local"].pop("protocol"),
}


@pytest.mark.parametrize("mutate", BROKEN.values(), ids=BROKEN.keys())
def test_the_structure_check_catches(mutate: Any) -> None:
    document = load()
    mutate(document)
    assert problems(document) != []


def sent_types() -> set[str]:
    """Every `type` of frame or event the code makes (`"type": "a" if x else "b"`: both)."""
    found: set[str] = set()
    for path in SENDERS:
        for first, second in _TYPE.findall(path.read_text()):
            found |= {first, second} - {""}
    return found


def test_every_event_and_reply_the_code_sends_is_in_the_document() -> None:
    document = load()
    sent = sent_types()
    assert {"message", "ack", "error", "pong", "ephemeral_message"} <= sent  # the scan works
    received = {ref.rsplit("/", 1)[1] for ref in _refs(document["operations"]["receiveEvents"])}
    replies = {
        ref.rsplit("/", 1)[1]
        for op in document["operations"].values()
        for ref in _refs(op.get("reply", {}))
    } - {"workspace"}
    assert sent - {"ack", "pong", "error"} == received - {"workspace"}
    assert replies == {"ack", "pong", "error"}


def test_every_websocket_route_is_a_send_operation() -> None:
    routes = {
        resource["Properties"]["RouteKey"]
        for resource in template()["Resources"].values()
        if resource["Type"] == "AWS::ApiGatewayV2::Route"
    } - {"$connect", "$disconnect", "$default"}
    document = load()
    sent = {
        ref.rsplit("/", 1)[1]
        for op in document["operations"].values()
        if op["action"] == "send"
        for ref in _refs(op["messages"])
    }
    assert sent == routes


# ---------------------------------------------------------------- real frames


def _act(function: str, sample: str, connection: str, user: str, wid: str, body: Any) -> Any:
    reply = load_function(function).lambda_handler(
        ws_event(sample, connection, user, wid, body), Context()
    )
    return json.loads(reply["body"])


def test_the_frames_of_a_real_exchange_fit_the_document(
    api: Api, poster: RecordingPoster, workspace: dict[str, str], connect: Any
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    connect("conn-alice", ALICE, wid)
    connect("conn-alice-2", ALICE, wid)
    connect("conn-bob", BOB, wid)
    replies = [
        _act("ws_send_message", "ws_send_message.json", "conn-alice", ALICE, wid,
             {"action": "sendMessage", "id": "c-1", "channelId": general, "text": f"hi <@{BOB}>"}),
        _act("ws_typing", "ws_typing.json", "conn-bob", BOB, wid,
             {"action": "typing", "channelId": general}),
        _act("ws_subscribe_presence", "ws_subscribe_presence.json", "conn-bob", BOB, wid,
             {"action": "subscribePresence", "userIds": [ALICE]}),
        _act("ws_ping", "ws_ping.json", "conn-bob", BOB, wid, {"action": "ping", "id": 7}),
        _act("ws_default", "ws_default-unknown-action.json", "conn-bob", BOB, wid,
             {"action": "shout"}),
    ]  # fmt: skip
    message = post(api, general, "edit me")
    ts = message["ts"]
    replies.append(
        _act("ws_mark_read", "ws_mark_read.json", "conn-alice", ALICE, wid,
             {"action": "markRead", "id": "c-2", "channelId": general, "ts": ts})
    )  # fmt: skip
    api("PATCH", f"/channels/{general}/messages/{ts}", body={"text": "edited"})
    api("PUT", f"/channels/{general}/messages/{ts}/reactions/tada", user=BOB)
    api("DELETE", f"/channels/{general}/messages/{ts}/reactions/tada", user=BOB)
    api("PUT", f"/channels/{general}/pins/{ts}")
    api("DELETE", f"/channels/{general}/pins/{ts}")
    api("POST", f"/channels/{general}/threads/{ts}/read", body={"ts": ts})
    api("DELETE", f"/channels/{general}/messages/{ts}")
    status, created = api("POST", f"/workspaces/{wid}/channels", body={"name": "frames"})
    assert status == 201
    cid = created["channel"]["id"]
    api("PATCH", f"/channels/{cid}", body={"topic": "checked"})
    api("POST", f"/channels/{cid}/members", body={"userIds": [BOB]})
    api("POST", f"/channels/{cid}/leave", user=BOB)

    document = load()
    # The poster keeps each event's eventId apart (conftest.RecordingPoster): put it back.
    events = [
        {**frame, "eventId": event_id}
        for conn, frames in poster.frames.items()
        for frame, event_id in zip(frames, poster.event_ids[conn], strict=True)
    ]
    frames = replies + events
    seen = {frame["type"] for frame in frames}
    assert {"ack", "pong", "error", "message", "message_changed", "message_deleted",
            "reaction_added", "reaction_removed", "pin_added", "pin_removed", "user_typing",
            "channel_marked", "thread_marked", "channel_created", "channel_changed",
            "member_joined_channel", "member_left_channel"} <= seen  # fmt: skip
    for frame in frames:
        errors = [e.message for e in _validator(document, frame["type"]).iter_errors(frame)]
        assert errors == [], frame
