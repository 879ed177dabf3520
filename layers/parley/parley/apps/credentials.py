"""Secrets an app is given once, and the hashes the table keeps instead.

A bot token or webhook token is 32 random bytes behind a prefix that says what it is (so a
leaked one is recognisable in logs and by secret scanners, and a token of one kind is never
taken for another). Only its SHA-256 is stored: the token is a bearer credential with 256
bits of entropy, so a plain hash (no salt, no stretching) already makes the stored value
useless to whoever reads the table, and it lets one GetItem find the token's item.
"""

from __future__ import annotations

import hashlib
import secrets

# Slack's prefix: Bolt and slack_sdk tell a bot token from a user token by it. Tokens made
# before it had "pxb-"; they are found by their hash like any other and keep working.
BOT_TOKEN_PREFIX = "xoxb-"  # noqa: S105  # a prefix, not a secret
HOOK_TOKEN_PREFIX = "pxh-"  # noqa: S105  # a prefix, not a secret
_TOKEN_BYTES = 32


def new_bot_token() -> str:
    return BOT_TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def new_hook_token() -> str:
    return HOOK_TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def new_signing_secret() -> str:
    """32 random bytes as hex, the shape of Slack's signing secrets."""
    return secrets.token_hex(_TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
