"""The facts of API.md's contract that a client relies on, read from its markdown: routes,
WebSocket actions and events, error codes, objects and their fields, Slack's methods and
scopes. The same reader reads docs/api.md, the repository's own reference, which must hold
every one of them (test_api_doc.py).

API.md lives beside the repository (../shared), absent from a CI checkout: its facts are
kept in api_md_contract.json, compared with API.md wherever it is present. After API.md
changes: `.venv/bin/python -m tests.functional.api_contract` rewrites the snapshot.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API_MD = ROOT.parent / "shared" / "API.md"
SNAPSHOT = Path(__file__).with_name("api_md_contract.json")
METHODS = "GET|POST|PUT|PATCH|DELETE"
_ROUTE = re.compile(rf"`({METHODS})\s+(/[^`\s]*)`")
_SAME = re.compile(rf"`({METHODS})` the same")
_ACTION = re.compile(r'"action":\s*"(\w+)"')
_OBJECT = re.compile(r"^- (\w+): `\{(.*)\}`", re.M)
_SLACK_METHOD = re.compile(r"`([a-z]+\.[a-zA-Z.]+)`")
_SCOPE = re.compile(r"`([a-z_.]+:[a-z_.]+)`")
_TICKED = re.compile(r"`([a-z][a-z_]*)`")

Facts = dict[str, list[str]]


def section(text: str, heading: str) -> str:
    """The body under the first heading `heading` (any level), up to the next of its level
    or higher."""
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", text, re.M)
    if match is None:
        return ""
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


def routes(text: str) -> set[str]:
    """Every `METHOD /path` written anywhere (`PUT /a`, `DELETE` the same: both)."""
    found: set[str] = set()
    for line in text.replace("`POST\n/", "`POST /").splitlines():
        here = [f"{m} {p}" for m, p in _ROUTE.findall(line)]
        found.update(here)
        for method in _SAME.findall(line):
            found.update(f"{method} {route.split(' ', 1)[1]}" for route in here)
    return found


def _first_cells(text: str, header: str) -> set[str]:
    """The backticked names in the first cell of each row of the tables headed `| header |`."""
    names: set[str] = set()
    in_table = False
    for line in text.splitlines():
        if line.startswith(f"| {header} |"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table and not line.startswith("| ---"):
            names.update(_TICKED.findall(line.split("|")[1]))
    return names


def events(text: str) -> set[str]:
    """Server-to-client events: the tables headed `| event |`, and "New events:" lists."""
    found = _first_cells(text, "event")
    for listed in re.findall(r"New events: ([^.]*)\.", text):
        found.update(_TICKED.findall(listed))
    return found


def _top_level_fields(body: str) -> list[str]:
    fields, depth, current = [], 0, ""
    for char in body + ",":
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char == "," and depth == 0:
            name = re.match(r"\s*(\w+)", current)
            if name:
                fields.append(name.group(1))
            current = ""
        else:
            current += char
    return fields


def objects(text: str) -> dict[str, list[str]]:
    return {
        name: _top_level_fields(body) for name, body in _OBJECT.findall(section(text, "Objects"))
    }


def facts(text: str) -> Facts:
    slack = section(text, "Slack-compatible platform")
    found: Facts = {
        "routes": sorted(routes(text)),
        "actions": sorted(set(_ACTION.findall(text))),
        "events": sorted(events(text)),
        "errors": sorted(set(_TICKED.findall(section(text, "Errors")))),
        "slack_methods": sorted(set(_SLACK_METHOD.findall(slack))),
        "slack_scopes": sorted(set(_SCOPE.findall(slack))),
    }
    found.update({f"object {name}": fields for name, fields in sorted(objects(text).items())})
    return found


def render(found: Facts) -> str:
    return json.dumps(found, indent=1, sort_keys=True) + "\n"


def snapshot() -> Facts:
    return json.loads(SNAPSHOT.read_text())  # type: ignore[no-any-return]  # the file this module writes


if __name__ == "__main__":
    SNAPSHOT.write_text(render(facts(API_MD.read_text())))
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}", file=sys.stderr)
