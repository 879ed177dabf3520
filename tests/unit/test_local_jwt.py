"""The HTTP API's JWT authorizer: what API Gateway lets through, and what it answers 401."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.jwt_auth import (
    Forbidden,
    JwtVerifier,
    StaticKeys,
    Unauthorized,
    claim_strings,
    require_scopes,
)

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
CLIENT = "client-1"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    return {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}


def token(key: Any = KEY, kid: str = "k1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": CLIENT,
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        "email_verified": True,
        "cognito:groups": ["admins", "staff"],
        **overrides,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def verify(header: str | None) -> dict[str, Any]:
    verifier = JwtVerifier(ISSUER, (CLIENT, "client-2"), StaticKeys(jwks()))
    return asyncio.run(verifier.verify(header))


def test_an_id_token_with_the_client_as_audience_passes() -> None:
    assert verify(f"Bearer {token()}")["sub"] == "user-1"


def test_an_access_token_passes_on_client_id() -> None:
    access = token(aud=None, client_id="client-2", token_use="access", scope="a b")
    assert verify(f"Bearer {access}")["client_id"] == "client-2"


def test_the_bearer_prefix_is_optional() -> None:
    assert verify(token())["sub"] == "user-1"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer ",
        "Bearer not.a.jwt",
        "Basic dXNlcjpwYXNz",
        f"Bearer {token(iss='https://cognito-idp.us-east-1.amazonaws.com/other')}",
        f"Bearer {token(aud='someone-else')}",
        f"Bearer {token(aud=None, client_id='someone-else', token_use='access')}",
        f"Bearer {token(aud=None)}",
        f"Bearer {token(exp=int(time.time()) - 10)}",
        # Far ahead: these parameters are built at collection, maybe long before the test runs.
        f"Bearer {token(nbf=int(time.time()) + 10 * 365 * 86400)}",
        f"Bearer {token(key=OTHER_KEY)}",
        f"Bearer {token(kid='unknown')}",
        f"Bearer {jwt.encode({'iss': ISSUER, 'aud': CLIENT}, key=None, algorithm='none')}",
        f"Bearer {jwt.encode({'iss': ISSUER, 'aud': CLIENT, 'exp': 2**40}, 's' * 32, 'HS256')}",
    ],
    ids=[
        "missing",
        "empty",
        "bearer-only",
        "garbage",
        "basic-auth",
        "wrong-issuer",
        "wrong-audience",
        "wrong-client-id",
        "no-audience",
        "expired",
        "not-yet-valid",
        "bad-signature",
        "unknown-key",
        "alg-none",
        "hs256",
    ],
)
def test_anything_else_is_unauthorized(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        verify(header)


def test_claims_reach_the_function_as_strings() -> None:
    claims = claim_strings({"exp": 5, "email_verified": True, "groups": ["a", "b"], "sub": "x"})
    assert claims == {"exp": "5", "email_verified": "true", "groups": "[a b]", "sub": "x"}


def test_a_route_with_scopes_needs_one_of_them() -> None:
    require_scopes({"scope": "read write"}, ("write", "admin"))
    require_scopes({}, ())
    with pytest.raises(Forbidden):
        require_scopes({"scope": "read"}, ("write",))
    with pytest.raises(Forbidden):
        require_scopes({}, ("write",))
