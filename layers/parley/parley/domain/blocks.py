"""Block Kit blocks on a message: their shape, the form a message keeps them in, their text.

Pure code without pydantic: the WebSocket functions check a frame's blocks with it, the HTTP
API's models (parley.edge.schemas) and the domain with the same rules and words.

Parley does not render blocks, so it checks only what keeps them safe to store and to pass
on, not Block Kit's schema (as Slack does for the apps it serves, a client renders what it
knows): a JSON array of at most 50 objects, each with a non-empty string `type`; strings
UTF-8 can hold; numbers JSON can write; nesting no deeper than Block Kit ever goes; and, in
the domain, a bounded size (parley.limits).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from parley.errors import BlocksTooLong, InvalidBlocks
from parley.limits import MAX_BLOCK_DEPTH, MAX_BLOCKS, MAX_BLOCKS_BYTES, encodable

Block = dict[str, Any]

# Text objects (section text and fields, headers, context elements, buttons, options...)
# and the markdown block carry their words in `text`; rich text keeps runs of inline
# elements that read as one line.
_TEXT_TYPES = frozenset({"plain_text", "mrkdwn", "markdown"})
_RICH_TEXT_RUNS = frozenset({"rich_text_section", "rich_text_preformatted", "rich_text_quote"})
_SURROGATE = "with a lone surrogate (not valid Unicode, which no UTF-8 store can hold)"


def shape_problem(value: object) -> str | None:
    """What is wrong with `value` as a message's blocks, in words naming the place; None
    when it is a list of blocks or None (no blocks)."""
    if value is None:
        return None
    if not isinstance(value, list):
        return "blocks must be a JSON array of objects"
    if len(value) > MAX_BLOCKS:
        return f"blocks has {len(value)} items; the limit is {MAX_BLOCKS}"
    for index, block in enumerate(value):
        problem = _block_problem(block)
        if problem is not None:
            return f"blocks[{index}]{problem}"
    return None


def _block_problem(block: object) -> str | None:
    if not isinstance(block, dict):
        return " must be a JSON object"
    kind = block.get("type")
    if not isinstance(kind, str) or not kind.strip():
        return ".type must be a non-empty string"
    # Walked without recursion: a hostile nesting cannot exhaust the stack.
    stack: list[tuple[object, int]] = [(block, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict | list):
            problem = _leaf_problem(node)
        elif depth > MAX_BLOCK_DEPTH:
            problem = f"nests deeper than {MAX_BLOCK_DEPTH} levels"
        elif isinstance(node, dict):
            problem = next(filter(None, map(_key_problem, node)), None)
            stack.extend((child, depth + 1) for child in node.values())
        else:
            problem = None
            stack.extend((child, depth + 1) for child in node)
        if problem is not None:
            return f" {problem}"
    return None


def _key_problem(key: object) -> str | None:
    if not isinstance(key, str):
        return "has a key that is not a string"
    if not encodable(key):
        return f"has a key {_SURROGATE}"
    return None


def _leaf_problem(value: object) -> str | None:
    if isinstance(value, str):
        return None if encodable(value) else f"has a string {_SURROGATE}"
    if isinstance(value, float):
        return (
            None if math.isfinite(value) else "holds a number JSON cannot write (NaN or infinity)"
        )
    if value is None or isinstance(value, bool | int):
        return None
    return f"holds a {type(value).__name__}, which is not a JSON value"


def to_store(value: object) -> str | None:
    """The blocks as a message keeps them, compact JSON; None when there are none (an empty
    list included). Raises InvalidBlocks for a bad shape, BlocksTooLong over the size limit."""
    problem = shape_problem(value)
    if problem is not None:
        raise InvalidBlocks(problem)
    if not value:
        return None
    stored = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    size = len(stored.encode())
    if size > MAX_BLOCKS_BYTES:
        raise BlocksTooLong(f"blocks are {size} bytes of JSON; the limit is {MAX_BLOCKS_BYTES}")
    return stored


def loaded(stored: str | None) -> list[Block] | None:
    """A message's blocks from their stored JSON. What `to_store` did not write (an item
    changed by hand) reads as no blocks rather than breaking every read of the message."""
    if not stored:
        return None
    try:
        value = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(block, dict) for block in value):
        return None
    return value or None


def text_of(blocks: list[Block]) -> list[str]:
    """The words a reader sees in the blocks, piece by piece in reading order: every text
    object wherever it sits, markdown blocks, and each rich text run as one piece (its
    inline elements joined, since a styled word may be split across them)."""
    return [piece for piece in _pieces(blocks) if piece.strip()]


def _pieces(blocks: list[Block]) -> Iterator[str]:
    stack: list[object] = list(reversed(blocks))
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            kind, text, elements = node.get("type"), node.get("text"), node.get("elements")
            if kind in _TEXT_TYPES and isinstance(text, str):
                yield text
            elif kind in _RICH_TEXT_RUNS and isinstance(elements, list):
                yield "".join(_inline_text(element) for element in elements)
            else:
                stack.extend(reversed(list(node.values())))


def _inline_text(element: object) -> str:
    """A rich text run's element as it reads: text, and a link's text or else its URL."""
    if not isinstance(element, dict):
        return ""
    kind, text = element.get("type"), element.get("text")
    if kind == "text" and isinstance(text, str):
        return text
    if kind == "link":
        shown = text if isinstance(text, str) and text else element.get("url")
        return shown if isinstance(shown, str) else ""
    return ""
