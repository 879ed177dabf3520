"""Slash commands, the pure part: recognising one in a message's text, the request an app
receives, and reading its answer.

The request mirrors Slack's: a form-encoded POST (`token`, `team_id`, `team_domain`,
`channel_id`, `channel_name`, `user_id`, `user_name`, `command`, `text`, `api_app_id`,
`is_enterprise_install`, `response_url`, `trigger_id`, and `thread_ts` in a thread), signed
as every request to an app (parley.apps.signing), to be answered within 3 seconds. The
answer is Slack's too: an empty 2xx (acknowledged, nothing shown: Bolt's `ack()`), JSON
`{text, blocks, response_type, thread_ts, ...}` (parley.edge.schemas.CommandResponse), or plain
text (ephemeral).
"""

from __future__ import annotations

import json
import re
import secrets
import time
import unicodedata
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from parley.apps.delivery import Reply
from parley.apps.signing import signed_headers, verification_token
from parley.edge.schemas import CommandResponse

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


def team_domain(name: str) -> str:
    """A workspace's name as Slack's `team_domain` (its subdomain): lowercase letters,
    digits and hyphens (accents dropped: "Élan" is "elan")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_name.lower())) or "parley"


def form(
    invocation: Invocation,
    *,
    secret: str,
    app_id: str,
    team_id: str,
    team_name: str,
    channel_id: str,
    channel_name: str,
    user_id: str,
    user_name: str,
    response_url: str,
    thread_ts: str | None,
) -> dict[str, str]:
    """The fields of Slack's slash command request, in Slack's order; `token` is the one
    every payload to the app carries (parley.apps.signing.verification_token)."""
    fields = {
        "token": verification_token(secret),
        "team_id": team_id,
        "team_domain": team_domain(team_name),
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": invocation.command,
        "text": invocation.text,
        "api_app_id": app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{int(time.time())}.{secrets.token_hex(8)}",
    }
    if thread_ts:
        fields["thread_ts"] = thread_ts
    return fields


def request(secret: str, fields: Mapping[str, str]) -> tuple[bytes, dict[str, str]]:
    """The form body and its headers (signed over the exact bytes sent)."""
    body = urllib.parse.urlencode(dict(fields)).encode()
    return body, {"Content-Type": FORM, **signed_headers(secret, body)}


@dataclass(frozen=True)
class Failure:
    """The app did not answer usably: `error` a short code, `detail` for the invoker."""

    error: Literal["app_unreachable", "app_error"]
    detail: str


def read_answer(reply: Reply) -> CommandResponse | Failure:
    """What the app answered; an empty answer is a CommandResponse without text or blocks.
    A failure is a Failure, never an exception."""
    if not 200 <= reply.status < 300:
        if reply.status == 0:
            detail = f"the app did not answer within {ACK_TIMEOUT_SECONDS:.0f} seconds"
            return Failure("app_unreachable", detail)
        return Failure("app_error", f"the app answered {reply.status}")
    if not reply.body.strip():
        return CommandResponse()
    if reply.content_type != "application/json":
        return CommandResponse(text=reply.body.decode(errors="replace"))
    return _json_answer(reply.body)


def _json_answer(body: bytes) -> CommandResponse | Failure:
    try:
        data = json.loads(body)
    except ValueError:
        return Failure("app_error", "the app's answer is not valid JSON")
    if not isinstance(data, dict):
        return Failure("app_error", "the app's answer is not a JSON object")
    try:
        return CommandResponse.model_validate(data)
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        where = ".".join(str(p) for p in problem["loc"])
        return Failure("app_error", f"the app's answer has a bad {where}: {problem['msg']}")


def shows_nothing(answer: CommandResponse) -> bool:
    """An acknowledgement alone (Bolt's `ack()`): nothing to show, replace or delete."""
    return not (answer.fallback_text().strip() or answer.blocks or answer.delete_original)
