"""Slash commands, the pure part: recognising one in a message's text, the request an app
receives, and reading its answer.

The request mirrors Slack's: a form-encoded POST (`command`, `text`, `team_id`,
`channel_id`, `user_id`, `api_app_id`, `response_url`, `trigger_id`, ...), signed as every
request to an app (parley.apps.signing), to be answered within 3 seconds. The answer is
Slack's too: an empty 2xx (acknowledged, nothing shown), a JSON `{text, response_type}`
with `response_type` `ephemeral` (the default: the invoker alone sees it) or `in_channel`
(posted as the app's bot), or plain text (ephemeral).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from parley.apps.delivery import Reply
from parley.apps.signing import signed_headers
from parley.schemas import CommandResponse

ACK_TIMEOUT_SECONDS = 3.0
FORM = "application/x-www-form-urlencoded"
# `/name` then whitespace or the end: "/usr/bin" or "/ shrug" are ordinary text.
_COMMAND = re.compile(r"^/([A-Za-z0-9_-]{1,32})(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Invocation:
    command: str  # "/name", lowercased as apps register it
    text: str  # the rest, stripped


def parse(text: str) -> Invocation | None:
    """The command a message's text invokes, or None for an ordinary message."""
    match = _COMMAND.match(text)
    if match is None:
        return None
    return Invocation(command="/" + match.group(1).lower(), text=(match.group(2) or "").strip())


def request(secret: str, fields: Mapping[str, str]) -> tuple[bytes, dict[str, str]]:
    """The form body and its headers (signed over the exact bytes sent)."""
    body = urllib.parse.urlencode(dict(fields)).encode()
    return body, {"Content-Type": FORM, **signed_headers(secret, body)}


@dataclass(frozen=True)
class Answer:
    kind: Literal["none", "ephemeral", "in_channel", "error"]
    text: str = ""
    error: str | None = None  # for `error`: a short code
    detail: str = ""  # for `error`: what went wrong, for the invoker


def read_answer(reply: Reply) -> Answer:
    """What the app's answer asks for; a failure is an `error` answer, never an exception."""
    if not 200 <= reply.status < 300:
        if reply.status == 0:
            detail = f"the app did not answer within {ACK_TIMEOUT_SECONDS:.0f} seconds"
            return Answer("error", error="app_unreachable", detail=detail)
        return Answer("error", error="app_error", detail=f"the app answered {reply.status}")
    if not reply.body.strip():
        return Answer("none")
    if reply.content_type != "application/json":
        return Answer("ephemeral", text=reply.body.decode(errors="replace"))
    try:
        answer = CommandResponse.model_validate(json.loads(reply.body))
    except (ValueError, ValidationError):
        return Answer("error", error="app_error", detail="the app's answer is not valid JSON")
    return Answer(answer.response_type if answer.text.strip() else "none", text=answer.text)
