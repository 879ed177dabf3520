"""Identifiers and message timestamps.

Ids are opaque: a type letter (W workspace, C channel, D direct message, F file) and 10
characters of a Crockford base32 alphabet, which is case-free and avoids I, L, O, U.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str, length: int = 10) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_invite_code() -> str:
    return secrets.token_urlsafe(18)


def ts_from_micros(micros: int) -> str:
    """Slack-style `seconds.micros`: fixed width until the year 2286, so it sorts as a string."""
    seconds, rest = divmod(micros, 1_000_000)
    return f"{seconds:010d}.{rest:06d}"


def now_micros() -> int:
    return time.time_ns() // 1000


def next_ts(ts: str) -> str:
    """The smallest timestamp after `ts`, used when a conditional put finds `ts` taken."""
    seconds, micros = ts.split(".")
    return ts_from_micros(int(seconds) * 1_000_000 + int(micros) + 1)


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
