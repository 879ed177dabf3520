"""The search query language, as Slack users know it. Pure code: text in, a model out.

    deploy "release notes" in:#general from:@alice after:2026-01-01 before:2026-02-01 has:file

Words must all match; a quoted phrase must match exactly; the modifiers narrow the set.
A modifier with a bad value is an error (the user asked for something precise); an
unknown `word:thing` is searched as text, as Slack does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from parley.errors import InvalidRequest

MAX_QUERY_CHARS = 1000
_TOKEN = re.compile(r'(?P<key>[a-z]+):(?P<quoted>"[^"]*"?)|"(?P<phrase>[^"]*)"?|(?P<word>\S+)')
_MODIFIERS = ("in", "from", "before", "after", "has")


@dataclass(frozen=True)
class SearchQuery:
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()  # names, without '#'; or channel ids
    users: tuple[str, ...] = ()  # names or ids, without '@'
    before: dt.date | None = None  # strictly before this day
    after: dt.date | None = None  # strictly after this day
    has_file: bool = False

    @property
    def has_text(self) -> bool:
        return bool(self.words or self.phrases)


def _date(key: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{key}: expects a date as YYYY-MM-DD, got {value!r}") from None


def parse_query(text: str) -> SearchQuery:
    """Parses `q`; raises InvalidRequest for an empty query or a modifier it cannot read."""
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidRequest(f"q: at most {MAX_QUERY_CHARS} characters")
    parts: dict[str, list[str]] = {"words": [], "phrases": [], "channels": [], "users": []}
    dates: dict[str, dt.date] = {}
    has_file = False
    for match in _TOKEN.finditer(text):
        if match["phrase"] is not None:
            if match["phrase"].strip():
                parts["phrases"].append(match["phrase"].strip())
            continue
        token = match["word"] or match.group(0)
        key, _, value = token.partition(":")
        key, value = key.lower(), value.strip('"')
        if key not in _MODIFIERS or not value:
            parts["words"].append(token)
        elif key == "in":
            parts["channels"].append(value.removeprefix("#").lower())
        elif key == "from":
            parts["users"].append(value.removeprefix("@"))
        elif key in ("before", "after"):
            dates[key] = _date(key, value)
        elif value.lower() in ("file", "files"):
            has_file = True
        else:
            raise InvalidRequest(f"has: only has:file is supported, got {value!r}")
    query = SearchQuery(
        words=tuple(parts["words"]),
        phrases=tuple(parts["phrases"]),
        channels=tuple(parts["channels"]),
        users=tuple(parts["users"]),
        before=dates.get("before"),
        after=dates.get("after"),
        has_file=has_file,
    )
    if not (query.has_text or query.channels or query.users or query.has_file):
        raise InvalidRequest("q: give at least one word, phrase or modifier")
    if query.before and query.after and query.after >= query.before:
        raise InvalidRequest("after: must be earlier than before:")
    return query
