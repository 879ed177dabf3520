"""Slack's message payloads, as an incoming webhook and a slash command's response_url take
them, and Slack's answers when it refuses one.

A payload is a JSON body, or (Slack's older form) a form-encoded body whose `payload` field
is that JSON. Slack's error texts and their statuses are those of its incoming webhooks
(docs.slack.dev, "Sending messages using incoming webhooks", Handling errors): a payload that
is not a JSON object or has a field of the wrong type is `invalid_payload`, one with neither
text nor blocks `no_text`, bad blocks `invalid_blocks`, an unknown or revoked URL
`no_service` (`expired_url` or `used_url` for a response_url), and so on. The domain raises
its own kinds of error; `refusal` names them in Slack's words.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from parley.domain.commands import ResponseUrlGone
from parley.domain.webhooks import NoSuchWebhook
from parley.errors import (
    BlocksTooLong,
    ChannelNotFound,
    EmptyText,
    Forbidden,
    InvalidBlocks,
    MessageNotFound,
    NotFound,
    ParleyError,
    RateLimited,
    TextTooLong,
    ThreadNotFound,
    TooLarge,
)

# A full 40,000-character text with its blocks, JSON-escaped, fits; anything larger is
# abuse, refused before parsing.
MAX_PAYLOAD_BYTES = 512 * 1024
FORM = "application/x-www-form-urlencoded"

M = TypeVar("M", bound=BaseModel)


class Refusal(Exception):
    """Slack's answer to a payload it does not post: the HTTP status and its error text."""

    def __init__(self, status: int, error: str, retry_after: int | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.retry_after = retry_after  # seconds, for `rate_limited`

    @property
    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else None


def read(raw: bytes, content_type: str, model: type[M]) -> M:
    """The payload in either of Slack's encodings, as `model`; else a Refusal."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise Refusal(413, "invalid_payload")
    try:
        text = raw.decode()
        if content_type == FORM:
            fields = urllib.parse.parse_qs(text, keep_blank_values=True)
            text = fields.get("payload", [""])[0]
        data = json.loads(text)
    except (ValueError, RecursionError):  # undecodable, not JSON, or nested past the stack
        raise Refusal(400, "invalid_payload") from None
    if not isinstance(data, dict):
        raise Refusal(400, "invalid_payload")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid(error) from None


def invalid(error: ValidationError) -> Refusal:
    """`invalid_blocks` when the blocks are what is wrong, else `invalid_payload`."""
    if any(problem["loc"][:1] == ("blocks",) for problem in error.errors()):
        return Refusal(400, "invalid_blocks")
    return Refusal(400, "invalid_payload")


def refusal(error: ParleyError | ValidationError | Refusal) -> Refusal:
    """A domain error, a payload that did not make a valid message, or a Refusal already,
    as Slack's answer to the payload."""
    if isinstance(error, Refusal):
        return error
    if isinstance(error, ValidationError):
        return invalid(error)
    if isinstance(error, RateLimited):
        return Refusal(429, "rate_limited", error.retry_after)
    if isinstance(error, ResponseUrlGone):
        return Refusal(404, "used_url" if error.used_up else "expired_url")
    found = (Refusal(status, text) for kind, status, text in _REFUSALS if isinstance(error, kind))
    return next(found, Refusal(400, "invalid_payload"))


# Most specific first: the domain's kinds of error subclass its general ones.
_REFUSALS: list[tuple[type[ParleyError], int, str]] = [
    (NoSuchWebhook, 404, "no_service"),
    (EmptyText, 400, "no_text"),
    (InvalidBlocks, 400, "invalid_blocks"),
    (BlocksTooLong, 400, "invalid_blocks"),
    (TextTooLong, 400, "msg_too_long"),
    (ThreadNotFound, 404, "thread_not_found"),
    (ChannelNotFound, 404, "channel_not_found"),
    (MessageNotFound, 404, "message_not_found"),  # the answer to replace or delete
    (TooLarge, 413, "invalid_payload"),
    (Forbidden, 403, "action_prohibited"),
    # What else a post may not find (the workspace, a file) is gone with the destination.
    (NotFound, 404, "channel_not_found"),
]
