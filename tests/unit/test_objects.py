"""The domain's objects (parley.domain.objects, no pydantic) and the HTTP API's models of them
(parley.edge.schemas, pydantic) declare the same fields and defaults and send the same JSON."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from parley.domain import objects
from parley.edge import schemas

PAIRS = [
    (objects.User, schemas.User),
    (objects.Workspace, schemas.Workspace),
    (objects.Channel, schemas.Channel),
    (objects.UserGroup, schemas.UserGroup),
    (objects.ScheduledMessage, schemas.ScheduledMessage),
    (objects.Reminder, schemas.Reminder),
    (objects.Reaction, schemas.Reaction),
    (objects.Edited, schemas.Edited),
    (objects.File, schemas.File),
    (objects.UploadForm, schemas.UploadForm),
    (objects.Message, schemas.Message),
]


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return ... if f.default is dataclasses.MISSING else f.default


@pytest.mark.parametrize(("plain", "model"), PAIRS, ids=lambda c: c.__name__)
def test_each_object_has_the_fields_and_defaults_of_its_reply_model(
    plain: type[Any], model: type[BaseModel]
) -> None:
    declared = {f.name: _default(f) for f in dataclasses.fields(plain)}
    modelled = {
        name: ... if info.is_required() else info.get_default(call_default_factory=True)
        for name, info in model.model_fields.items()
    }
    assert declared == modelled


FILE = objects.File(
    id="F1",
    workspaceId="W1",
    name="a.txt",
    size=3,
    contentType="text/plain",
    status="ready",
    uploadedBy="U1",
    createdAt="2026-11-28T00:00:00Z",
)
MESSAGES = [
    objects.Message(ts="1732700000.000001", channelId="C1", userId="U1", text="hi"),
    objects.Message(
        ts="1732700000.000002",
        channelId="C1",
        userId="U1",
        text="",
        threadTs="1732700000.000002",
        replyCount=2,
        latestReplyTs="1732700000.000009",
        reactions=[objects.Reaction(name="tada", count=2, users=["U1", "U2"])],
        edited=objects.Edited(ts="1732700000.000005"),
        files=[FILE],
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}, "fields": []},
            {"type": "divider"},
        ],
        clientMsgId="m-1",
    ),
]


@pytest.mark.parametrize("message", MESSAGES, ids=["bare", "everything"])
def test_a_message_sends_the_json_of_its_http_reply(message: objects.Message) -> None:
    """The WebSocket sends `wire()`; the HTTP API validates the object into its model."""
    replied = schemas.MessageReply(message=message).model_dump()["message"]
    assert message.wire() == replied
    assert "threadTs" not in MESSAGES[0].wire()  # unset optional fields are left out
    assert "blocks" not in MESSAGES[0].wire()


def test_the_other_objects_send_the_json_of_their_replies() -> None:
    channel = objects.Channel(
        id="C1",
        workspaceId="W1",
        name="general",
        type="public",
        topic="",
        createdBy="U1",
        createdAt="2026-11-28T00:00:00Z",
        isMember=True,
        memberCount=3,
    )
    assert schemas.ChannelReply(channel=channel).model_dump()["channel"] == channel.wire()
    assert schemas.FileReply(file=FILE).model_dump()["file"] == FILE.wire()


def test_a_reply_still_refuses_an_object_that_breaks_the_contract() -> None:
    odd = dataclasses.replace(FILE, status="lost")  # type: ignore[arg-type]  # a status outside the Literal, on purpose
    with pytest.raises(ValidationError):
        schemas.FileReply(file=odd)
