"""The contract's formats and limits (API.md), without pydantic.

`parley.edge.schemas` builds the HTTP API's models from them and `parley.edge.frames` checks the
WebSocket frames with them, so both edges apply the same rules.
"""

from __future__ import annotations

TS_PATTERN = r"^\d{10}\.\d{6}$"
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_TEXT_CHARS = 40_000
MAX_FILES_PER_MESSAGE = 10
MAX_CLIENT_MSG_ID_CHARS = 128
MAX_FRAME_ID_CHARS = 128
MAX_PRESENCE_SUBSCRIPTIONS = 100
# Block Kit blocks on a message (parley.domain.blocks). 50 is Slack's count. Slack's size
# limit is undocumented (it refuses around 16 KB of blocks); this bound keeps a message item
# well under DynamoDB's 400 KB beside 40,000 characters of text (160 KB of UTF-8 at most),
# and the index queue's change (text and blocks' text) under SQS's 256 KB.
MAX_BLOCKS = 50
MAX_BLOCKS_BYTES = 50_000  # of compact UTF-8 JSON
MAX_BLOCK_DEPTH = 16  # nesting inside a block; Block Kit's deepest (rich text lists) is 8

# JSON may escape a lone surrogate (`"\ud800"`) that no UTF-8 store can hold: stored, it
# crashed every consumer that re-encodes the text (found by fuzzing).
LONE_SURROGATE = "text must be valid Unicode (no lone surrogates)"


def encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
