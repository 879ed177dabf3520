"""Domain errors. Each maps to one HTTP status and API.md error code, in one place."""

from __future__ import annotations


class ParleyError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, dict[str, str | int]]:
        return {"error": {"code": self.code, "message": self.message}}


class InvalidRequest(ParleyError):
    status, code = 400, "invalid_request"


class Unauthorized(ParleyError):
    status, code = 401, "unauthorized"


class Forbidden(ParleyError):
    status, code = 403, "forbidden"


class NotFound(ParleyError):
    status, code = 404, "not_found"


class Conflict(ParleyError):
    status, code = 409, "conflict"


class TooLarge(ParleyError):
    status, code = 413, "too_large"


class RateLimited(ParleyError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, dict[str, str | int]]:
        # Beside HTTP's Retry-After header; on the WebSocket, the error frame has only this.
        reply = super().to_dict()
        reply["error"]["retryAfter"] = self.retry_after
        return reply


# What was not found or not allowed, by kind: the same status and code as their bases, and
# a kind that the Slack dialect can name (`channel_not_found`, `not_in_channel`, ...).


class ChannelNotFound(NotFound):
    pass


class MessageNotFound(NotFound):
    pass


class ThreadNotFound(NotFound):
    pass


class UserNotFound(NotFound):
    pass


class NotInChannel(Forbidden):
    """The caller sees the channel but must be in it for this."""


class NotAuthor(Forbidden):
    """Only the message's author (or, for a delete, an admin) may do this."""


class ChannelArchived(Conflict):
    """The channel is archived: it takes no new messages, reactions or members."""


class AlreadyArchived(Conflict):
    pass


class NotArchived(Conflict):
    pass


class CantArchiveGeneral(Forbidden):
    """A workspace's general channel is never archived."""


class BookmarkNotFound(NotFound):
    pass


class EmptyText(InvalidRequest):
    pass


class InvalidBlocks(InvalidRequest):
    """A message's Block Kit blocks are not a list of at most 50 JSON objects with a `type`."""


class BlocksTooLong(TooLarge):
    """A message's blocks are over their size limit."""


class TextTooLong(TooLarge):
    pass


class RecipientNotInChannel(NotFound):
    """An ephemeral message's recipient is not in the channel."""


class InvalidCursor(InvalidRequest):
    """A cursor this server did not make."""


class TimeInPast(InvalidRequest):
    """A scheduled message's or reminder's time is past (or too near to schedule)."""


class TimeTooFar(InvalidRequest):
    """A scheduled message's or reminder's time is beyond how far ahead it may be."""
