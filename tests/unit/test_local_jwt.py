"""The HTTP API's JWT authorizer: the identity source, scopes and claims as API Gateway
handles them, around the shared verifier (its rules: tests/unit/test_cognito_tokens.py)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from local.jwt_auth import (
    Forbidden,
    GatewayVerifier,
    bearer_token,
    claim_strings,
    require_scopes,
)
from parley.adapters.cognito import InvalidToken, Jwks
from tests.unit.test_cognito_tokens import CLIENT, ISSUER, JWKS_URL, jwks, token


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER  abc ", "abc"),
        ("abc", "abc"),
        ("Bearer ", ""),
        (None, ""),
        ("Basic dXNlcjpwYXNz", "Basic dXNlcjpwYXNz"),
    ],
)
def test_the_identity_source_takes_the_token_with_or_without_bearer(
    header: str | None, expected: str
) -> None:
    assert bearer_token(header) == expected


class RecordingPool:
    def __init__(self) -> None:
        self.threads: list[int] = []

    def fetch(self, url: str) -> dict[str, Any]:
        assert url == JWKS_URL
        self.threads.append(threading.get_ident())
        return jwks()


def test_the_gateway_fetches_keys_off_its_event_loop_then_verifies_inline() -> None:
    pool = RecordingPool()
    gateway = GatewayVerifier(ISSUER, (CLIENT,), Jwks(JWKS_URL, pool.fetch))

    async def verify_twice() -> list[dict[str, Any]]:
        return [await gateway.verify(f"Bearer {token()}"), await gateway.verify(token())]

    claims = asyncio.run(verify_twice())
    assert [c["sub"] for c in claims] == ["user-1", "user-1"]
    assert len(pool.threads) == 1
    assert pool.threads[0] != threading.get_ident()


@pytest.mark.parametrize("header", [None, "", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer x.y.z"])
def test_a_header_without_a_token_is_an_invalid_token(header: str | None) -> None:
    gateway = GatewayVerifier(ISSUER, (CLIENT,), Jwks(JWKS_URL, RecordingPool().fetch))
    with pytest.raises(InvalidToken):
        asyncio.run(gateway.verify(header))


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
