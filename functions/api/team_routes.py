"""Team feature routes (API.md, "Team features"): channel bookmarks, archiving a channel,
the notification preferences (a level per channel, do not disturb) and retention."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from parley import wiring
from parley.domain import bookmarks, channels, preferences, retention
from parley.domain.caller import Caller
from parley.edge.http import token_caller
from parley.edge.schemas import (
    BookmarkReply,
    BookmarksReply,
    ChannelReply,
    CreateBookmark,
    SetDoNotDisturb,
    SetNotificationLevel,
    SetRetention,
    UpdateBookmark,
)

router = Router()


def _caller() -> Caller:
    """No provisioning here: only members reach a channel, and joining a workspace already
    provisioned them; do not disturb needs no profile."""
    return token_caller(router.current_event)


# ------------------------------------------------------------------ bookmarks


@router.post("/channels/<cid>/bookmarks", responses={201: {"description": "added"}})
def add_bookmark(cid: str, body: CreateBookmark) -> Response[BookmarkReply]:
    added = bookmarks.add(
        _caller(), cid, wiring.broadcaster(), title=body.title, link=body.link, emoji=body.emoji
    )
    reply = BookmarkReply(bookmark=bookmarks.view(added))
    return Response(status_code=201, content_type="application/json", body=reply)


@router.get("/channels/<cid>/bookmarks")
def list_bookmarks(cid: str) -> BookmarksReply:
    found = bookmarks.list_bookmarks(_caller(), cid)
    return BookmarksReply(bookmarks=[bookmarks.view(b) for b in found])


@router.patch("/bookmarks/<id>")
def update_bookmark(id: str, body: UpdateBookmark) -> BookmarkReply:
    changed = bookmarks.update(
        _caller(),
        id,
        wiring.broadcaster(),
        title=body.title,
        link=body.link,
        emoji=body.emoji,
        change_emoji="emoji" in body.model_fields_set,
    )
    return BookmarkReply(bookmark=bookmarks.view(changed))


@router.delete("/bookmarks/<id>", responses={204: {"description": "removed"}})
def remove_bookmark(id: str) -> Response[None]:
    bookmarks.remove(_caller(), id, wiring.broadcaster())
    return Response(status_code=204)


# ------------------------------------------------------------------ archiving


@router.post("/channels/<cid>/archive")
def archive_channel(cid: str) -> ChannelReply:
    archived = channels.set_archived(_caller(), cid, wiring.broadcaster(), archived=True)
    return ChannelReply(channel=archived)


@router.post("/channels/<cid>/unarchive")
def unarchive_channel(cid: str) -> ChannelReply:
    unarchived = channels.set_archived(_caller(), cid, wiring.broadcaster(), archived=False)
    return ChannelReply(channel=unarchived)


# ------------------------------------------------------------------ notification preferences


@router.put("/channels/<cid>/notifications", responses={204: {"description": "set"}})
def set_notification_level(cid: str, body: SetNotificationLevel) -> Response[None]:
    preferences.set_level(_caller(), cid, body.level)
    return Response(status_code=204)


@router.put("/me/dnd", responses={204: {"description": "set"}})
def set_do_not_disturb(body: SetDoNotDisturb) -> Response[None]:
    preferences.set_dnd(_caller(), body.until)
    return Response(status_code=204)


# ------------------------------------------------------------------ retention


@router.put("/workspaces/<wid>/retention", responses={204: {"description": "set"}})
def set_workspace_retention(wid: str, body: SetRetention) -> Response[None]:
    retention.set_workspace_policy(_caller(), wid, body.days)
    return Response(status_code=204)


@router.put("/channels/<cid>/retention", responses={204: {"description": "set"}})
def set_channel_retention(cid: str, body: SetRetention) -> Response[None]:
    retention.set_channel_policy(_caller(), cid, body.days)
    return Response(status_code=204)
