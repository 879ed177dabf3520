"""The layer's one SigV4 signer, and credentials, for the clients Parley makes itself: the
lean ones (`parley.adapters.connections`, `parley.adapters.dynamodb.transport`) and
OpenSearch's (`parley.adapters.opensearch`). It computes what botocore's `SigV4Auth` computes
for a request, without botocore's request objects, header parsing and per-request key
derivation: 0.02 ms a request against SigV4Auth's 0.19 (bench/transport.py). The tests hold
every client's signature to SigV4Auth's, byte for byte (tests/functional/test_sigv4_contract.py).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import botocore.session
    from botocore.credentials import Credentials, ReadOnlyCredentials


def host_header(endpoint: urllib.parse.SplitResult) -> str:
    """The Host that is sent and signed: botocore's, lower case, without a default port."""
    host = f"[{endpoint.hostname}]" if ":" in (endpoint.hostname or "") else endpoint.hostname
    default_port = 443 if endpoint.scheme == "https" else 80
    if endpoint.port is not None and endpoint.port != default_port:
        return f"{host}:{endpoint.port}"
    return str(host)


def signed_headers(
    method: str,
    host: str,
    path: str,
    body: bytes,
    *,
    service: str,
    region: str,
    credential: ReadOnlyCredentials,
    now: float,
    headers: Mapping[str, str] | None = None,
    query: str = "",
) -> dict[str, str]:
    """`headers` (every one of them signed) with Host, X-Amz-Date, the session token if any
    and the Authorization of a SigV4-signed request, as botocore's `SigV4Auth` signs it:
    header names in lower case, sorted, values with their runs of white space made one space;
    the payload's SHA-256; the path URI-encoded a second time, as botocore does for every
    service but S3; `query`, as it is in the URL (already encoded), in pairs sorted by name
    then value. (Botocore also drops `.` and empty path segments, which no path here has.)"""
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    date = amz_date[:8]
    signed = {**(headers or {}), "Host": host, "X-Amz-Date": amz_date}
    if credential.token:
        signed["X-Amz-Security-Token"] = credential.token
    canonical = sorted((name.lower(), " ".join(value.split())) for name, value in signed.items())
    names = ";".join(name for name, _ in canonical)
    canonical_request = "\n".join(
        (
            method,
            urllib.parse.quote(path, safe="/~"),
            _canonical_query(query),
            "".join(f"{name}:{value}\n" for name, value in canonical),
            names,
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        (
            "AWS4-HMAC-SHA256",
            amz_date,
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        )
    )
    key = _signing_key(credential.secret_key, date, region, service)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    signed["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credential.access_key}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )
    return signed


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&"))
    return "&".join(f"{name}={value}" for name, value in pairs)


@functools.lru_cache(maxsize=8)
def _signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """The key of a day, region, service and secret: four HMACs, made once rather than per
    request."""
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def find_credentials(session: botocore.session.Session | None = None) -> Credentials:
    """Botocore's chain (environment, profile, container, instance) of `session` or a new
    one; raises `NoCredentialsError` when it finds none. A client calls this once and reads
    `get_frozen_credentials()` per request, so credentials that refresh themselves keep
    working."""
    import botocore.session
    from botocore.exceptions import NoCredentialsError

    found = (session or botocore.session.get_session()).get_credentials()
    if found is None:
        raise NoCredentialsError()
    return found
