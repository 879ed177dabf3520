"""Cognito: JWT verification as API Gateway's JWT authorizer does it, and profile look-ups.

RS256 against the user pool's JWKS (fetched once per process, refetched when a token names
an unknown key), `iss` equal to the pool's issuer, `exp` in the future, and the app client
as `aud` (ID tokens) or `client_id` (access tokens).
"""

from __future__ import annotations

from typing import Any

import jwt

_ALLOWED_USES = {"id", "access"}


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not from this pool and client."""


class TokenVerifier:
    def __init__(self, jwks_url: str, issuer: str, audience: str) -> None:
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=5)
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str | None) -> dict[str, Any]:
        if not token:
            raise InvalidToken("no token")
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                options={"verify_aud": False, "require": ["exp", "iss", "sub"]},
                leeway=5,
            )
        except (jwt.PyJWTError, ValueError) as error:
            raise InvalidToken(str(error)) from None
        if claims.get("token_use") not in _ALLOWED_USES:
            raise InvalidToken("token_use must be id or access")
        audience = claims.get("aud") if claims.get("token_use") == "id" else claims.get("client_id")
        if audience != self._audience:
            raise InvalidToken("token is for another client")
        return claims


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
