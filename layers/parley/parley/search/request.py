"""A parsed query and the caller's visible channels as an OpenSearch request body. Pure.

Visibility is decided here, at query time, from the channels the caller may read now:
leaving a private channel removes its results at once, with no reindexing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from parley.search.changes import day_start_millis
from parley.search.query import SearchQuery

TEXT_FIELDS = ("text", "text.exact", "text.cjk", "text.code")
PHRASE_FIELDS = ("text.exact", "text.cjk")
HIGHLIGHT_TAGS = ("<em>", "</em>")


def search_body(
    query: SearchQuery,
    *,
    workspace_id: str,
    channel_ids: Collection[str],
    user_ids: Collection[str] | None,
    offset: int,
    size: int,
) -> dict[str, Any]:
    """`channel_ids`: what the caller may read, already narrowed by in:; `user_ids`: the
    from: authors, None when the query names none."""
    must: list[dict[str, Any]] = [
        # Each word must match, in any of the ways the text is analyzed.
        {"multi_match": {"query": word, "fields": list(TEXT_FIELDS), "operator": "and"}}
        for word in query.words
    ]
    must += [
        {"multi_match": {"query": phrase, "fields": list(PHRASE_FIELDS), "type": "phrase"}}
        for phrase in query.phrases
    ]
    filters: list[dict[str, Any]] = [
        {"term": {"workspaceId": workspace_id}},
        {"terms": {"channelId": sorted(channel_ids)}},
        {"term": {"deleted": False}},
    ]
    if user_ids is not None:
        filters.append({"terms": {"userId": sorted(user_ids)}})
    if query.has_file:
        filters.append({"term": {"hasFile": True}})
    sent_at: dict[str, int] = {}
    if query.before:
        sent_at["lt"] = day_start_millis(query.before)
    if query.after:
        sent_at["gte"] = day_start_millis(query.after + dt.timedelta(days=1))
    if sent_at:
        filters.append({"range": {"sentAt": sent_at}})
    sort: list[Any] = [{"sentAt": "desc"}, {"ts": "desc"}]
    if query.has_text:
        sort.insert(0, "_score")
    return {
        "from": offset,
        "size": size,
        "track_total_hits": True,
        "query": {"bool": {"must": must, "filter": filters}},
        "sort": sort,
        "_source": ["channelId", "ts"],
        "highlight": {
            "pre_tags": [HIGHLIGHT_TAGS[0]],
            "post_tags": [HIGHLIGHT_TAGS[1]],
            "require_field_match": False,
            "fields": {field: {"number_of_fragments": 3} for field in TEXT_FIELDS},
        },
    }


def highlights_of(hit: dict[str, Any]) -> list[str]:
    """The fragments of the first field that has any, in TEXT_FIELDS order."""
    found = hit.get("highlight") or {}
    for field in TEXT_FIELDS:
        if found.get(field):
            return list(found[field])
    return []
