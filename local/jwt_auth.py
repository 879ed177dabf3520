"""The HTTP API's JWT authorizer, as API Gateway runs it.

API Gateway takes the token from the identity source header, with or without `Bearer `,
verifies it (parley.adapters.cognito.TokenVerifier, the `$connect` authorizer's verifier:
the rules are written there), lets it through a route with scopes when it has one of them,
and passes the claims to the function as strings.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Mapping
from typing import Any

from parley.adapters.cognito import Jwks, TokenVerifier, signing_key_id


class Forbidden(Exception):
    """The token is valid but lacks every scope the route requires."""


def bearer_token(header_value: str | None) -> str:
    """The identity source's token: the header's value, `Bearer ` (any case) taken off."""
    token = (header_value or "").strip()
    scheme, _, rest = token.partition(" ")
    return rest.strip() if scheme.lower() == "bearer" else token


class GatewayVerifier:
    """The verifier on the gateway's event loop: a token whose keys must be fetched first is
    verified on a thread, so the fetch does not hold up every other request."""

    def __init__(self, issuer: str, audiences: Collection[str], keys: Jwks) -> None:
        self._keys = keys
        self._verifier = TokenVerifier(issuer, audiences, keys)

    async def verify(self, header_value: str | None) -> dict[str, Any]:
        """The token's claims; raises InvalidToken for anything short of a valid token."""
        token = bearer_token(header_value)
        kid = signing_key_id(token)
        if kid is not None and self._keys.due(kid):
            return await asyncio.to_thread(self._verifier.verify, token)
        return self._verifier.verify(token)


def claim_strings(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway passes them to the function: every value a string, lists as
    `[a b]`, booleans as `true`/`false`."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return "[" + " ".join(text(item) for item in value) + "]"
        if isinstance(value, dict):
            return json.dumps(value, separators=(",", ":"))
        return str(value)

    return {name: text(value) for name, value in claims.items()}


def token_scopes(claims: Mapping[str, Any]) -> list[str] | None:
    scope = claims.get("scope") or claims.get("scp")
    if isinstance(scope, str):
        return scope.split()
    if isinstance(scope, list):
        return [str(item) for item in scope]
    return None


def require_scopes(claims: Mapping[str, Any], required: tuple[str, ...]) -> None:
    """API Gateway lets a token through when it has any one of the route's scopes."""
    if required and not set(token_scopes(claims) or ()) & set(required):
        raise Forbidden("insufficient scope")
