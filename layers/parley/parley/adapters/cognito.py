"""Cognito: the user pool's tokens, verified as API Gateway's JWT authorizer verifies them,
and profile look-ups.

One verifier serves the `$connect` authorizer (functions/authorizer) and the local HTTP
API's JWT authorizer (local/jwt_auth.py), so a token that the HTTP API takes is a token that
`$connect` takes. A token passes when all of these hold:

- its header names (`kid`) a key of the pool's JWKS, and that key signed it, RS256;
- `iss` is the pool's issuer; `exp` lies ahead and `nbf` and `iat`, when present, do not,
  with no leeway (API Gateway's documented rule has none);
- `token_use` is `id` or `access` (Cognito's rule; API Gateway does not read it);
- the app client is its `aud` (ID tokens) or its `client_id` (access tokens), and so is
  `aud` when an access token carries one (API Gateway reads `aud` first).

Who the token's user is (`sub`) is the caller's concern, as it is behind API Gateway.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Collection, Mapping
from typing import Any

import jwt

# A token naming a key the pool does not have refetches the JWKS at most this often (keys
# rotate rarely; a made-up `kid` must not cost a fetch each). Keys are refetched after
# MAX_KEY_AGE_S, within the two hours that API Gateway may cache them.
REFETCH_INTERVAL_S = 30.0
MAX_KEY_AGE_S = 3600.0
FETCH_TIMEOUT_S = 5.0

_ALLOWED_USES = ("id", "access")

Fetch = Callable[[str], Mapping[str, Any]]
"""Reads the JWKS document at a URL."""


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not from this pool and client."""


def fetch_jwks(url: str) -> Mapping[str, Any]:
    """The JWKS document at `url` (Cognito's is public), over the standard library's HTTP."""
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as reply:  # noqa: S310 - the configured JWKS URL
        document: Mapping[str, Any] = json.loads(reply.read())
    return document


class Jwks:
    """A user pool's signing keys by `kid`, read with `fetch` (`fetch_jwks` unless given)."""

    def __init__(
        self, url: str, fetch: Fetch | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.url = url
        self._fetch = fetch if fetch is not None else fetch_jwks
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # the last fetch that succeeded
        self._tried_at: float | None = None  # the last fetch, whatever came of it
        self._lock = threading.Lock()

    def due(self, kid: str) -> bool:
        """Whether looking up `kid` fetches the keys first: before the first successful
        fetch, then for an unknown `kid` or keys past their age, at most every
        REFETCH_INTERVAL_S."""
        if self._fetched_at is None:
            return True
        now = self._clock()
        if self._tried_at is not None and now - self._tried_at < REFETCH_INTERVAL_S:
            return False
        return kid not in self._keys or now - self._fetched_at >= MAX_KEY_AGE_S

    def key(self, kid: str) -> jwt.PyJWK | None:
        with self._lock:
            if self.due(kid):
                self._refresh(kid)
            return self._keys.get(kid)

    def _refresh(self, kid: str) -> None:
        self._tried_at = self._clock()
        try:
            document = self._fetch(self.url)
            keys = jwt.PyJWKSet.from_dict(dict(document)).keys
        except (OSError, http.client.HTTPException, ValueError, TypeError, jwt.PyJWTError) as error:
            if kid in self._keys:
                return  # keys past their age still verify while the pool is unreachable
            raise InvalidToken(f"the pool's signing keys could not be read: {error}") from None
        self._keys = {
            key.key_id: key for key in keys if key.key_id and key.public_key_use in ("sig", None)
        }
        self._fetched_at = self._tried_at


def _names_one_of(value: Any, audiences: Collection[str]) -> bool:
    """`aud` may be a string or a list (RFC 7519); one of its values must be allowed."""
    values = value if isinstance(value, list) else [value]
    return any(isinstance(item, str) and item in audiences for item in values)


class TokenVerifier:
    def __init__(self, issuer: str, audiences: Collection[str], keys: Jwks) -> None:
        self._issuer = issuer
        self._audiences = frozenset(audiences)
        self._keys = keys

    def verify(self, token: str | None) -> dict[str, Any]:
        """The token's claims; raises InvalidToken for anything short of a valid token."""
        if not token:
            raise InvalidToken("no token")
        kid = signing_key_id(token)
        key = self._keys.key(kid) if kid is not None else None
        if key is None:
            raise InvalidToken("the token names no signing key of the pool")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                options={"verify_aud": False, "require": ["exp", "iss"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidToken(str(error)) from None
        use = claims.get("token_use")
        if use not in _ALLOWED_USES:
            raise InvalidToken("token_use must be id or access")
        own_claim = claims.get("aud") if use == "id" else claims.get("client_id")
        read_by_api_gateway = claims.get("aud", claims.get("client_id"))
        if not (
            _names_one_of(own_claim, self._audiences)
            and _names_one_of(read_by_api_gateway, self._audiences)
        ):
            raise InvalidToken("the token is for another client")
        return claims


def signing_key_id(token: str) -> str | None:
    """The `kid` in the token's header, unverified; None when it has none or no header."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    return kid if isinstance(kid, str) else None


class UserPool:
    """Profile look-up in the user pool, for tokens without an email claim."""

    def __init__(self, user_pool_id: str, region: str) -> None:
        self._user_pool_id = user_pool_id
        self._region = region
        self._client: Any = None

    def profile(self, username: str) -> tuple[str | None, str | None]:
        """(name, email) of the user, or (None, None) if the pool does not know them."""
        if self._client is None:
            import boto3

            self._client = boto3.client("cognito-idp", region_name=self._region)
        try:
            user = self._client.admin_get_user(UserPoolId=self._user_pool_id, Username=username)
        except self._client.exceptions.UserNotFoundException:
            return None, None
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        return attributes.get("name"), attributes.get("email")
