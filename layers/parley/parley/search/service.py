"""Searching a workspace's messages, limited to what the caller may read right now."""

from __future__ import annotations

from typing import Any, Protocol

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.ports.channels import store as channel_store
from parley.domain.ports.messages import store as message_store
from parley.domain.ports.users import store as user_store
from parley.domain.ports.workspaces import store as workspace_store
from parley.domain.records import ChannelRecord
from parley.domain.views import channel_view, message_view
from parley.edge.schemas import Channel, Message, _Out
from parley.errors import InvalidRequest
from parley.paging import decode_offset
from parley.search.query import SearchQuery, parse_query
from parley.search.request import highlights_of, search_body

MAX_WINDOW = 10_000  # OpenSearch's default index.max_result_window


class SearchEngine(Protocol):
    def search(self, body: dict[str, Any]) -> dict[str, Any]: ...


class SearchResult(_Out):
    message: Message
    channel: Channel
    highlights: list[str]


class SearchReply(_Out):
    results: list[SearchResult]
    total: int
    nextCursor: str | None = None


def search_messages(
    caller: Caller,
    workspace_id: str,
    *,
    q: str,
    limit: int,
    cursor: str | None,
    engine: SearchEngine,
) -> SearchReply:
    access.workspace_member(workspace_id, caller.user_id)
    query = parse_query(q)
    offset = decode_offset(cursor)
    if offset + limit > MAX_WINDOW:
        raise InvalidRequest(f"cursor: results beyond the first {MAX_WINDOW} are not paged")
    readable = readable_channels(workspace_id, caller.user_id)
    channels = _narrow_to(query, readable)
    user_ids = _authors(query, workspace_id)
    if not channels or user_ids == set():
        return SearchReply(results=[], total=0)
    body = search_body(
        query,
        workspace_id=workspace_id,
        channel_ids=channels,
        user_ids=user_ids,
        offset=offset,
        size=limit,
    )
    reply = engine.search(body)
    hits = reply["hits"]["hits"]
    total = int(reply["hits"]["total"]["value"])
    results = []
    for hit in hits:
        channel, is_member = readable[hit["_source"]["channelId"]]
        item = message_store.get_message(channel.channelId, hit["_source"]["ts"])
        if item is None:  # deleted since it was indexed; its tombstone is on its way
            continue
        results.append(
            SearchResult(
                message=message_view(item),
                channel=channel_view(channel, is_member),
                highlights=highlights_of(hit),
            )
        )
    more = offset + len(hits) < total and len(hits) == limit
    return SearchReply(
        results=results, total=total, nextCursor=str(offset + limit) if more else None
    )


def readable_channels(workspace_id: str, user_id: str) -> dict[str, tuple[ChannelRecord, bool]]:
    """The workspace's public channels and the caller's own channels, with membership."""
    memberships = channel_store.memberships_in_workspace(user_id, workspace_id)
    mine = {m.channelId for m in memberships}
    readable = {
        c.channelId: (c, c.channelId in mine) for c in channel_store.public_channels(workspace_id)
    }
    missing = [cid for cid in mine if cid not in readable]
    for channel in channel_store.get_channels(missing) if missing else []:
        readable[channel.channelId] = (channel, True)
    return readable


def _narrow_to(query: SearchQuery, readable: dict[str, tuple[ChannelRecord, bool]]) -> set[str]:
    if not query.channels:
        return set(readable)
    wanted = set(query.channels)
    return {
        cid
        for cid, (channel, _) in readable.items()
        if channel.name.lower() in wanted or cid.lower() in wanted
    }


def _authors(query: SearchQuery, workspace_id: str) -> set[str] | None:
    """The ids that from: names (by id, name, or email's local part); None without from:."""
    if not query.users:
        return None
    wanted = {u.lower() for u in query.users}
    member_ids = workspace_store.all_member_ids(workspace_id)
    profiles = user_store.get_users(member_ids)
    found = set()
    for user_id in member_ids:
        profile = profiles.get(user_id)
        names = {user_id.lower()}
        if profile is not None:
            names |= {profile.name.lower(), profile.email.split("@")[0].lower()}
        if names & wanted:
            found.add(user_id)
    return found
