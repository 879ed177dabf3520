"""The messages index: its name, alias and mapping, tuned for chat text.

One `text` field read four ways, because chat mixes prose, names, pasted code and CJK:

- `text`: English with stemming ("deploying" finds "deployed");
- `text.exact`: lowercased words, no stemming, with positions, for "exact phrases";
- `text.cjk`: CJK bigrams, so Chinese, Japanese and Korean without spaces are findable;
- `text.code`: whitespace-split tokens kept whole *and* split at case changes, `_`, `.`
  and digits, so `getUserById`, `user_id` and `api.v2.deploy()` are findable whole or by
  their parts.
"""

from __future__ import annotations

from typing import Any

# Search reads READ_ALIAS and the indexer writes to every index behind WRITE_ALIAS. Both name
# one index, `messages-v<N>`, except while a reindex builds the next one: then the write
# alias names both, so live changes reach the index being built, and the reindex switches
# both aliases to it in one atomic request (see parley.search.reindex).
READ_ALIAS = "messages"
WRITE_ALIAS = "messages-write"
INDEX_PREFIX = "messages-v"
TEMPLATE = "parley-messages"


def index_name(generation: int) -> str:
    return f"{INDEX_PREFIX}{generation}"


def generation_of(index: str) -> int | None:
    """N of `messages-v<N>`; None for any other name."""
    suffix = index.removeprefix(INDEX_PREFIX)
    return int(suffix) if index.startswith(INDEX_PREFIX) and suffix.isdigit() else None


SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "analysis": {
        "filter": {
            "chat_english_stemmer": {"type": "stemmer", "language": "english"},
            "chat_english_possessive": {"type": "stemmer", "language": "possessive_english"},
            "chat_code_parts": {
                "type": "word_delimiter_graph",
                "preserve_original": True,
                "split_on_case_change": True,
                "split_on_numerics": True,
                "generate_word_parts": True,
                "generate_number_parts": True,
                "stem_english_possessive": False,
            },
        },
        "analyzer": {
            "chat_english": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["chat_english_possessive", "lowercase", "chat_english_stemmer"],
            },
            "chat_exact": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["lowercase"],
            },
            "chat_code": {
                "type": "custom",
                "tokenizer": "whitespace",
                "filter": ["chat_code_parts", "lowercase"],
            },
        },
    },
}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "workspaceId": {"type": "keyword"},
        "channelId": {"type": "keyword"},
        "ts": {"type": "keyword"},
        "sentAt": {"type": "date", "format": "epoch_millis"},
        "userId": {"type": "keyword"},
        "threadTs": {"type": "keyword"},
        "hasFile": {"type": "boolean"},
        "deleted": {"type": "boolean"},
        "text": {
            "type": "text",
            "analyzer": "chat_english",
            "fields": {
                "exact": {"type": "text", "analyzer": "chat_exact"},
                "cjk": {"type": "text", "analyzer": "cjk"},
                "code": {"type": "text", "analyzer": "chat_code"},
            },
        },
    },
}


def index_template() -> dict[str, Any]:
    return {
        "index_patterns": [f"{INDEX_PREFIX}*"],
        "template": {"settings": SETTINGS, "mappings": MAPPINGS},
        "priority": 100,
    }
