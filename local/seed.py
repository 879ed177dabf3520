"""The demo workspace: alice creates it (which creates `general`), invites bob, bob joins.

Everything goes through the public HTTP API, as a client would do it.
"""

from __future__ import annotations

from typing import Any

import requests

from local.stack import Stack

DEMO_USERS = {"alice": "Alice", "bob": "Bob"}


class SeedError(RuntimeError):
    """The HTTP API refused a seeding step (the functions are broken or not written yet)."""


def _post(url: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    reply = requests.post(
        url, json=body or {}, headers={"authorization": f"Bearer {token}"}, timeout=30
    )
    if not reply.ok:
        raise SeedError(f"seeding: POST {url} answered {reply.status_code}: {reply.text[:500]}")
    document: dict[str, Any] = reply.json()
    return document


def seed_demo(stack: Stack) -> str:
    """Creates the demo users and workspace; returns the workspace id."""
    alice, bob = (stack.login(user, name=name).id_token for user, name in DEMO_USERS.items())
    base = stack.http_url
    workspace_id: str = _post(f"{base}/workspaces", alice, {"name": "Demo"})["workspace"]["id"]
    code = _post(f"{base}/workspaces/{workspace_id}/invites", alice)["invite"]["code"]
    _post(f"{base}/invites/{code}/accept", bob)
    return workspace_id
