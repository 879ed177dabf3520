"""The user pool's token verifier (parley.adapters.cognito), which the `$connect` authorizer
and the local HTTP API's JWT authorizer share: what passes, what is refused, and when the
pool's keys are fetched. The keys are served from memory: `Jwks` takes the fetch."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from parley.adapters.cognito import (
    MAX_KEY_AGE_S,
    REFETCH_INTERVAL_S,
    InvalidToken,
    Jwks,
    TokenVerifier,
)

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
CLIENT = "client-1"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(*keys: tuple[str, rsa.RSAPrivateKey]) -> dict[str, Any]:
    documents = []
    for kid, key in keys or (("k1", KEY),):
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        documents.append({**public, "kid": kid, "alg": "RS256", "use": "sig"})
    return {"keys": documents}


def token(key: Any = KEY, kid: str | None = "k1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": CLIENT,
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        **overrides,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def access_token(**overrides: Any) -> str:
    claims = {"aud": None, "client_id": CLIENT, "token_use": "access", "scope": "a b"}
    return token(**{**claims, **overrides})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Pool:
    """The JWKS endpoint in memory: the document it serves, and how often it was read."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document or jwks()
        self.fetches = 0
        self.down = False

    def fetch(self, url: str) -> dict[str, Any]:
        assert url == JWKS_URL
        self.fetches += 1
        if self.down:
            raise OSError("connection refused")
        return self.document


def verifier(pool: Pool | None = None, clock: Clock | None = None) -> TokenVerifier:
    keys = Jwks(JWKS_URL, (pool or Pool()).fetch, clock or Clock())
    return TokenVerifier(ISSUER, (CLIENT, "client-2"), keys)


def test_an_id_token_with_the_client_as_audience_passes() -> None:
    assert verifier().verify(token())["sub"] == "user-1"


def test_an_access_token_passes_on_client_id() -> None:
    assert verifier().verify(access_token())["client_id"] == CLIENT


def test_any_configured_client_and_an_audience_list_naming_one_pass() -> None:
    assert verifier().verify(token(aud="client-2"))["aud"] == "client-2"
    assert verifier().verify(token(aud=["someone-else", CLIENT]))["sub"] == "user-1"


def test_a_token_without_subject_passes_the_verifier_its_caller_decides() -> None:
    # API Gateway does not require `sub`; the function behind it (and the $connect
    # authorizer) refuses a token that names no user.
    assert "sub" not in verifier().verify(token(sub=None))


def _now() -> int:
    return int(time.time())


# Built when the test runs, not at collection: several are about the clock.
REFUSED: dict[str, Callable[[], str | None]] = {
    "missing": lambda: None,
    "empty": lambda: "",
    "garbage": lambda: "not.a.jwt",
    "long garbage": lambda: "x" * 5000,
    "wrong issuer": lambda: token(iss="https://cognito-idp.us-east-1.amazonaws.com/other"),
    "no issuer": lambda: token(iss=None),
    "id token for another client": lambda: token(aud="someone-else"),
    "id token without aud": lambda: token(aud=None),
    "id token carrying only the client as client_id": lambda: token(aud=None, client_id=CLIENT),
    "access token for another client": lambda: access_token(client_id="someone-else"),
    # API Gateway reads aud before client_id: it would refuse this one.
    "access token whose aud is another client": lambda: access_token(aud="someone-else"),
    "token_use refresh": lambda: token(token_use="refresh"),
    "no token_use": lambda: token(token_use=None),
    "no exp": lambda: token(exp=None),
    # No leeway: a second past exp, a few seconds before nbf or iat is too early or late.
    "expired a second ago": lambda: token(exp=_now() - 1),
    "not yet valid": lambda: token(nbf=_now() + 5),
    "issued in the future": lambda: token(iat=_now() + 5),
    "signed by another key": lambda: token(key=OTHER_KEY),
    "unknown kid": lambda: token(kid="k2"),
    "no kid": lambda: token(kid=None),
    "alg none": lambda: jwt.encode(
        {"iss": ISSUER, "aud": CLIENT, "token_use": "id", "exp": 2**40},
        key=None,
        algorithm="none",
        headers={"kid": "k1"},
    ),
    "HS256 with the public key's kid": lambda: jwt.encode(
        {"iss": ISSUER, "aud": CLIENT, "token_use": "id", "exp": 2**40},
        "s" * 32,
        "HS256",
        headers={"kid": "k1"},
    ),
}


@pytest.mark.parametrize("make", REFUSED.values(), ids=REFUSED.keys())
def test_anything_else_is_an_invalid_token(make: Callable[[], str | None]) -> None:
    with pytest.raises(InvalidToken):
        verifier().verify(make())


# ---------------------------------------------------------------- the pool's keys


def test_the_keys_are_fetched_once_for_many_tokens() -> None:
    pool = Pool()
    check = verifier(pool)
    for _ in range(5):
        check.verify(token())
    assert pool.fetches == 1


def test_made_up_key_ids_refetch_at_most_once_per_interval() -> None:
    pool, clock = Pool(), Clock()
    check = verifier(pool, clock)
    check.verify(token())
    for _ in range(20):
        clock.now += 1
        with pytest.raises(InvalidToken):
            check.verify(token(kid="made-up"))
    assert pool.fetches == 1
    clock.now += REFETCH_INTERVAL_S
    for _ in range(20):
        with pytest.raises(InvalidToken):
            check.verify(token(kid="made-up"))
    assert pool.fetches == 2


def test_a_rotated_key_is_found_by_refetching() -> None:
    pool, clock = Pool(), Clock()
    check = verifier(pool, clock)
    check.verify(token())
    pool.document = jwks(("k1", KEY), ("k2", OTHER_KEY))
    clock.now += REFETCH_INTERVAL_S
    assert check.verify(token(key=OTHER_KEY, kid="k2"))["sub"] == "user-1"


def test_keys_past_their_age_are_refetched_and_a_removed_key_stops_verifying() -> None:
    pool, clock = Pool(), Clock()
    check = verifier(pool, clock)
    check.verify(token())
    pool.document = jwks(("k2", OTHER_KEY))
    clock.now += MAX_KEY_AGE_S
    with pytest.raises(InvalidToken):
        check.verify(token())
    assert pool.fetches == 2


def test_an_unreachable_pool_refuses_tokens_until_it_answers() -> None:
    pool = Pool()
    pool.down = True
    check = verifier(pool)
    with pytest.raises(InvalidToken, match="could not be read"):
        check.verify(token())
    pool.down = False  # before the first success, the next token tries again
    assert check.verify(token())["sub"] == "user-1"


def test_known_keys_keep_verifying_while_their_refresh_fails() -> None:
    pool, clock = Pool(), Clock()
    check = verifier(pool, clock)
    check.verify(token())
    pool.down = True
    clock.now += MAX_KEY_AGE_S
    assert check.verify(token())["sub"] == "user-1"
    assert pool.fetches == 2


@pytest.mark.parametrize(
    "document",
    [{"keys": []}, {"nokeys": 1}, {"keys": [{"kty": "RSA", "kid": "k1", "n": "?", "e": "?"}]}],
    ids=["no keys", "not a JWKS", "a broken key"],
)
def test_a_malformed_jwks_refuses_the_token(document: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        verifier(Pool(document)).verify(token())


def test_a_key_published_for_encryption_verifies_no_signature() -> None:
    document = jwks()
    document["keys"][0]["use"] = "enc"
    with pytest.raises(InvalidToken):
        verifier(Pool(document)).verify(token())
