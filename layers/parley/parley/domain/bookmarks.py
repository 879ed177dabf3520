"""Channel bookmarks (API.md, "Team features"): links that a channel's members keep at its
top. Members add, change and remove them; whoever sees the channel lists them; each change
reaches the channel's members as `bookmark_added`, `bookmark_changed`, `bookmark_removed`
`{channelId, bookmark}`. An archived channel's bookmarks stay as they are (409).

The functions return the records, which each dialect shows its way: `view` as API.md's
bookmark, parley.slack.shapes.bookmark as Slack's (with its dates and last editor)."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.objects import Bookmark
from parley.domain.ports import Publisher
from parley.domain.ports.bookmarks import store as bookmark_store
from parley.domain.records import BookmarkRecord, ChannelRecord
from parley.errors import BookmarkNotFound, ChannelNotFound, InvalidRequest
from parley.ids import iso_now, new_id

MAX_PER_CHANNEL = 100
MAX_LINK_CHARS = 2000
# Slack's emoji names, bare or between colons (`:link:`), as a bookmark's icon.
EMOJI = re.compile(r"^(:[a-z0-9_+'-]{1,64}:|[a-z0-9_+'-]{1,64})$")


def view(bookmark: BookmarkRecord) -> Bookmark:
    return Bookmark(
        id=bookmark.bookmarkId,
        channelId=bookmark.channelId,
        title=bookmark.title,
        link=bookmark.link,
        createdBy=bookmark.createdBy,
        emoji=bookmark.emoji,
    )


def checked_link(link: str) -> str:
    """An absolute http or https URL with a host; anything else is a 400."""
    if len(link) > MAX_LINK_CHARS:
        raise InvalidRequest(f"link is over {MAX_LINK_CHARS} characters")
    try:
        parts = urlsplit(link)
        host = parts.hostname
    except ValueError:
        raise InvalidRequest("link is not a URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise InvalidRequest("link must be an http or https URL")
    if any(c.isspace() or ord(c) < 32 for c in link):
        raise InvalidRequest("link must not contain spaces or control characters")
    return link


def _checked_title(title: str) -> str:
    if not title.strip():
        raise InvalidRequest("title must not be empty")
    return title


def _checked_emoji(emoji: str | None) -> str | None:
    if emoji is None or emoji == "":
        return None
    if not EMOJI.match(emoji):
        raise InvalidRequest("emoji must be an emoji name such as :link:")
    return emoji


def _writable(caller: Caller, channel_id: str) -> ChannelRecord:
    """The channel, for a member changing its bookmarks while it is not archived."""
    channel, _ = access.channel_member(channel_id, caller.user_id, caller.workspace_id)
    return access.not_archived(channel)


def _announce(publisher: Publisher, event: dict[str, str], bookmark: BookmarkRecord) -> None:
    """`event` names its type; the channel and the bookmark are added."""
    body = {**event, "channelId": bookmark.channelId, "bookmark": view(bookmark).wire()}
    publisher.to_channel(bookmark.workspaceId, bookmark.channelId, body)


def add(
    caller: Caller,
    channel_id: str,
    publisher: Publisher,
    *,
    title: str,
    link: str,
    emoji: str | None = None,
) -> BookmarkRecord:
    channel = _writable(caller, channel_id)
    now = iso_now()
    bookmark = BookmarkRecord(
        bookmarkId=new_id("Bk"),
        channelId=channel_id,
        workspaceId=channel.workspaceId,
        title=_checked_title(title),
        link=checked_link(link),
        emoji=_checked_emoji(emoji),
        createdBy=caller.user_id,
        createdAt=now,
        updatedAt=now,
        updatedBy=caller.user_id,
    )
    if len(bookmark_store.in_channel(channel_id)) >= MAX_PER_CHANNEL:
        raise InvalidRequest(f"a channel keeps at most {MAX_PER_CHANNEL} bookmarks")
    bookmark_store.create(bookmark)
    _announce(publisher, {"type": "bookmark_added"}, bookmark)
    return bookmark


def list_bookmarks(caller: Caller, channel_id: str) -> list[BookmarkRecord]:
    """Whoever sees the channel (a bot: one it is in), oldest first."""
    access.history_channel(channel_id, caller)
    found = bookmark_store.in_channel(channel_id)
    return sorted(found, key=lambda b: (b.createdAt, b.bookmarkId))


def _found(caller: Caller, bookmark_id: str, channel_id: str | None = None) -> BookmarkRecord:
    """The bookmark, for a member of its channel; for anyone else it does not exist.
    `channel_id` is the channel the caller names it in (Slack's), which must be its own."""
    bookmark = bookmark_store.get(bookmark_id)
    if bookmark is None or (channel_id is not None and bookmark.channelId != channel_id):
        raise BookmarkNotFound("bookmark not found")
    try:
        access.visible_channel(bookmark.channelId, caller.user_id)
    except ChannelNotFound:  # a channel hidden from the caller hides its bookmarks
        raise BookmarkNotFound("bookmark not found") from None
    return bookmark


def update(
    caller: Caller,
    bookmark_id: str,
    publisher: Publisher,
    *,
    channel_id: str | None = None,
    title: str | None = None,
    link: str | None = None,
    emoji: str | None = None,
    change_emoji: bool = False,
) -> BookmarkRecord:
    """Changes the fields given (`change_emoji` with `emoji` None removes the emoji)."""
    before = _found(caller, bookmark_id, channel_id)
    _writable(caller, before.channelId)
    after = dataclasses.replace(
        before,
        title=_checked_title(title) if title is not None else before.title,
        link=checked_link(link) if link is not None else before.link,
        emoji=_checked_emoji(emoji) if change_emoji else before.emoji,
        updatedAt=iso_now(),
        updatedBy=caller.user_id,
    )
    if not bookmark_store.update(after):
        raise BookmarkNotFound("bookmark not found")
    _announce(publisher, {"type": "bookmark_changed"}, after)
    return after


def remove(
    caller: Caller, bookmark_id: str, publisher: Publisher, *, channel_id: str | None = None
) -> None:
    bookmark = _found(caller, bookmark_id, channel_id)
    _writable(caller, bookmark.channelId)
    if bookmark_store.delete(bookmark):
        _announce(publisher, {"type": "bookmark_removed"}, bookmark)
