"""The HTTP API's JWT authorizer, checked as API Gateway checks it.

API Gateway takes the token from the identity source header (with or without `Bearer `),
verifies its signature against the issuer's JWKS (RS256), requires `iss` to equal the
configured issuer, `exp` to lie ahead (and `nbf`/`iat` not ahead), and `aud` (ID tokens) or
`client_id` (access tokens) to be one of the configured audiences. Claims reach the function
as strings.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
import jwt

# Refetch the JWKS for an unknown `kid` at most this often (keys rotate rarely).
_REFRESH_INTERVAL_S = 30.0


class Unauthorized(Exception):
    """The request carries no valid token for this authorizer."""


class Forbidden(Exception):
    """The token is valid but lacks every scope the route requires."""


def _keys_by_id(jwks: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    return {key.key_id: key for key in jwt.PyJWKSet.from_dict(dict(jwks)).keys if key.key_id}


class KeySource(Protocol):
    async def key(self, kid: str) -> jwt.PyJWK | None: ...


class StaticKeys:
    """A fixed JWKS document, for tests and for issuers known in advance."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys = _keys_by_id(jwks)

    async def key(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)


class RemoteKeys:
    """The issuer's JWKS fetched over HTTP, cached, refetched when a token names a new key."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK | None:
        if kid not in self._keys:
            async with self._lock:
                if (
                    kid not in self._keys
                    and time.monotonic() - self._fetched_at > _REFRESH_INTERVAL_S
                ):
                    await self._fetch()
        return self._keys.get(kid)

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        timeout = aiohttp.ClientTimeout(total=5)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(self._url) as reply,
        ):
            reply.raise_for_status()
            document = json.loads(await reply.read())
        self._keys = _keys_by_id(document)


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


class JwtVerifier:
    def __init__(self, issuer: str, audiences: tuple[str, ...], keys: KeySource) -> None:
        self._issuer = issuer
        self._audiences = set(audiences)
        self._keys = keys

    async def verify(self, header_value: str | None) -> dict[str, Any]:
        """The token's claims; raises Unauthorized for anything short of a valid token."""
        token = (header_value or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            raise Unauthorized("no token")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = await self._keys.key(kid) if isinstance(kid, str) else None
            if key is None:
                raise Unauthorized("unknown signing key")
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                options={"verify_aud": False, "require": ["exp", "iss"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError, aiohttp.ClientError, TimeoutError) as error:
            raise Unauthorized(str(error)) from None
        audience = claims.get("aud", claims.get("client_id"))
        audiences = set(audience) if isinstance(audience, list) else {audience}
        if not audiences & self._audiences:
            raise Unauthorized("audience not allowed")
        return claims


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
