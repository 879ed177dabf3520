"""File names: what a user named a file, the object key part made from it, and the
download header that gives it back (RFC 6266)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from parley.errors import InvalidRequest

_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_KEY_NAME_CHARS = 100
# RFC 5987 attr-char beyond what quote() always keeps (letters, digits, "_.-~").
_ATTR_CHARS = "!#$&+^`|"


def display_name(name: str) -> str:
    """The name as shown in Slack: kept as typed (NFC), refused if it hides control
    characters (a newline in a name would break headers and logs)."""
    cleaned = unicodedata.normalize("NFC", name.strip())
    if not cleaned:
        raise InvalidRequest("name must not be empty")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in cleaned):
        raise InvalidRequest("name must not contain control characters")
    return cleaned


def ascii_name(name: str) -> str:
    """An ASCII stand-in, safe in an object key and in a quoted header value:
    `Résumé (final).pdf` → `Resume_final_.pdf`."""
    decomposed = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    safe = _KEY_UNSAFE.sub("_", decomposed).strip("._-")  # no hidden or `..` names
    if len(safe) > _KEY_NAME_CHARS:
        _, dot, extension = safe.rpartition(".")
        keep = extension if dot and len(extension) <= 16 else ""
        safe = safe[: _KEY_NAME_CHARS - len(keep) - 1].rstrip("._-") + ("." + keep if keep else "")
    return safe or "file"


def object_key(workspace_id: str, file_id: str, name: str) -> str:
    """`<wid>/<fid>/<ascii name>`: one prefix per workspace, one key per file."""
    return f"{workspace_id}/{file_id}/{ascii_name(name)}"


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII `filename` for old clients and the exact UTF-8 name in
    `filename*` (RFC 6266 §4.3, RFC 5987)."""
    exact = quote(name, safe=_ATTR_CHARS)
    return f"attachment; filename=\"{ascii_name(name)}\"; filename*=UTF-8''{exact}"
