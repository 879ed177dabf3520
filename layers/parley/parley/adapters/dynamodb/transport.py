"""Adapter under pynamodb: DynamoDB's JSON protocol over `http.client`, in botocore's place.

pynamodb hands every request to its client's `_make_api_call(operation, params)`; botocore's
client spends most of a request's CPU around the HTTP exchange (event emits, parameter and
endpoint resolution, urllib3, its header objects, a signer that derives its key per
request). `DynamoDBHttp` answers that call for the item operations (`SERVED`) with one
kept-alive `http.client` connection per thread (`parley.adapters.keepalive`) and a SigV4
signature from `parley.adapters.sigv4`. bench/transport.py measures it beside the same code
over urllib3 with botocore's SigV4Auth and beside botocore's client: about 2 and 4 to 6
times less CPU a request, and a fresh process's first call about a third of botocore's,
which loads DynamoDB's model and endpoint rules (docs/decisions.md, "The lean clients'
wire"). It returns and raises what botocore's client would:

- the request is botocore's: the same JSON body (`json.dumps`, bytes base64-encoded),
  `X-Amz-Target` and `Content-Type`, signed the same way; a TransactWriteItems without a
  `ClientRequestToken` gets a random one, as botocore adds it, so that a retried transaction
  is idempotent. Not sent: botocore's User-Agent and `amz-sdk-*` headers, which are not
  signed;
- a success is the body as botocore's parser reads it (`B` and `BS` values as bytes, with
  `ResponseMetadata`: `RequestId`, `HTTPStatusCode`, `HTTPHeaders` in lower case,
  `RetryAttempts`); an error raises `botocore.exceptions.ClientError` with the response
  botocore builds (`Error.Code` from `__type` after `#`, `Error.Message`, the error's
  modelled members such as `CancellationReasons`), so pynamodb's PutError, UpdateError,
  TransactWriteError... carry the same codes and reasons;
- retries are botocore's "standard" mode with pynamodb's attempts (`DYNAMODB_MAX_ATTEMPTS`
  in `adapters.dynamodb.base`): throttling codes, 429 with a code the operation does not model,
  500/502/503/504, the transient codes, `ReplicatedWriteConflictException` (for the writes
  whose model lists it), network errors and a body whose `x-amz-crc32` does not match;
  backoff `random() * min(base * 2 ** (attempt - 1), 20)`
  seconds with base 1 s for throttling and 25 ms otherwise (botocore's bases for DynamoDB),
  raised to `x-amz-retry-after` as botocore does, and botocore's retry quota (500, a retry
  costs 14 or 5 for throttling). A kept-alive connection that the server closed while idle
  fails at once: the request is sent again on a new connection without using an attempt;
  network errors that remain raise the botocore exception that botocore would raise
  (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError).

Everything else goes to a botocore client made on first need, as pynamodb makes it: other
operations (DescribeTable, CreateTable...), and settings this client does not implement: a
region outside the aws and aws-cn partitions, FIPS or dual-stack endpoints, an account-id
endpoint mode of `required`, an HTTP(S) proxy for the endpoint, an endpoint URL with a path,
a pynamodb retry configuration other than its default. The endpoint is botocore's: pynamodb's
`host`, else the configured one (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`, the
config file), else `https://dynamodb.<region>.amazonaws.com` (`.com.cn` in China).
Differences that remain: botocore keeps only a response's modelled members and this client
what the service sent, which differs only if the service sends members its model lacks
(moto's UpdateItem and GetItem answers do not: tests/integration/test_dynamodb_http.py);
botocore sends to the account's
endpoint (`<account>.ddb.<region>...`) when the credentials carry an account id or a table
is named by ARN, this client to the regional one, which serves the same tables; a `str`
given as a binary value would be sent as it is (pynamodb gives bytes). See docs/decisions.md
(2026-12-03, DynamoDB through http.client).
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import re
import ssl
import threading
import time
import urllib.parse
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import botocore.exceptions
from pynamodb.connection.base import Connection

from parley.adapters.keepalive import Answer, KeepAlive
from parley.adapters.sigv4 import find_credentials, host_header, signed_headers

if TYPE_CHECKING:
    import botocore.session
    from botocore.credentials import Credentials

SERVICE = "dynamodb"
TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
# The item operations: all that Parley's store calls (grep `layers/parley`, `functions`).
SERVED = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
    }
)

# The partitions served, by botocore's region patterns (partitions.json), and their suffix.
PARTITIONS = (
    (re.compile(r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$"), "amazonaws.com"),
    (re.compile(r"^cn\-\w+\-\d+$"), "amazonaws.com.cn"),
)

# botocore/retries/standard.py, with DynamoDB's values.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}
)
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
# Errors the service model marks retryable (not as throttling); botocore retries them for
# the operations that list them (OPERATION_ERRORS).
MODELLED_RETRYABLE = frozenset({"ReplicatedWriteConflictException"})
THROTTLING_BASE_S = 1.0
TRANSIENT_BASE_S = 0.025
MAX_BACKOFF_S = 20.0
RETRY_AFTER_EXTRA_S = 5.0
QUOTA_CAPACITY = 500
RETRY_COST = 14
THROTTLING_RETRY_COST = 5
NO_RETRY_INCREMENT = 1

# DynamoDB's modelled errors and the members botocore adds beside `Error` (botocore's
# service model; tests/functional/test_dynamodb_http.py holds this table to it).
_MESSAGE = ("message",)
ERROR_MEMBERS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "BackupInUseException",
            "BackupNotFoundException",
            "ContinuousBackupsUnavailableException",
            "DuplicateItemException",
            "ExportConflictException",
            "ExportNotFoundException",
            "GlobalTableAlreadyExistsException",
            "GlobalTableNotFoundException",
            "ImportConflictException",
            "ImportNotFoundException",
            "IndexNotFoundException",
            "InternalServerError",
            "InvalidExportTimeException",
            "InvalidRestoreTimeException",
            "ItemCollectionSizeLimitExceededException",
            "LimitExceededException",
            "PointInTimeRecoveryUnavailableException",
            "PolicyNotFoundException",
            "ReplicaAlreadyExistsException",
            "ReplicaNotFoundException",
            "ReplicatedWriteConflictException",
            "ResourceInUseException",
            "ResourceNotFoundException",
            "TableAlreadyExistsException",
            "TableInUseException",
            "TableNotFoundException",
            "TransactionConflictException",
        ),
        _MESSAGE,
    ),
    "ConditionalCheckFailedException": ("message", "Item"),
    "IdempotentParameterMismatchException": ("Message",),
    "ProvisionedThroughputExceededException": ("message", "ThrottlingReasons"),
    "RequestLimitExceeded": ("message", "ThrottlingReasons"),
    "ThrottlingException": ("message", "throttlingReasons"),
    "TransactionCanceledException": ("Message", "CancellationReasons"),
    "TransactionInProgressException": ("Message",),
}


# The errors each operation's model lists: a 429 with one of them is retried only if the
# model says so (botocore's ThrottlingStatusCodeChecker and ModeledRetryableChecker).
_READ_ERRORS = frozenset(
    {
        "InternalServerError",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ResourceNotFoundException",
        "ThrottlingException",
    }
)
_WRITE_ERRORS = _READ_ERRORS | {
    "ConditionalCheckFailedException",
    "ItemCollectionSizeLimitExceededException",
    "ReplicatedWriteConflictException",
    "TransactionConflictException",
}
OPERATION_ERRORS: dict[str, frozenset[str]] = {
    "GetItem": _READ_ERRORS,
    "Query": _READ_ERRORS,
    "Scan": _READ_ERRORS,
    "BatchGetItem": _READ_ERRORS,
    "PutItem": _WRITE_ERRORS,
    "UpdateItem": _WRITE_ERRORS,
    "DeleteItem": _WRITE_ERRORS,
    "BatchWriteItem": _READ_ERRORS
    | {"ItemCollectionSizeLimitExceededException", "ReplicatedWriteConflictException"},
    "TransactWriteItems": _READ_ERRORS
    | {
        "IdempotentParameterMismatchException",
        "TransactionCanceledException",
        "TransactionInProgressException",
    },
    "TransactGetItems": _READ_ERRORS | {"TransactionCanceledException"},
}


class DynamoDBClient(Protocol):
    """The interface of the clients under pynamodb's connection (`base.CLIENTS`): botocore's
    client's `_make_api_call`, the one method pynamodb calls, which returns the parsed answer
    or raises botocore's ClientError. `DynamoDBHttp` and botocore's client implement it;
    tests/functional/test_dynamodb_contract.py holds both to one contract."""

    def _make_api_call(self, operation_name: str, operation_kwargs: dict[str, Any]) -> Any: ...


class Endpoint(NamedTuple):
    """Where requests go, what signs them and what carries them, found once per client."""

    url: str
    host: str  # the Host header
    credentials: Credentials
    transport: KeepAlive


class DynamoDBHttp:
    """The client under a pynamodb `Connection`: `_make_api_call` as botocore's client has it.

    `botocore_client` makes (once) the botocore client for what this one does not serve;
    `session` gives the botocore session whose credential chain and configuration apply;
    `clock` gives the signing time (tests freeze it)."""

    def __init__(
        self,
        region: str | None,
        host: str | None = None,
        *,
        max_attempts: int,
        connect_timeout_s: float,
        read_timeout_s: float,
        botocore_client: Callable[[], DynamoDBClient],
        session: Callable[[], botocore.session.Session] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._region = region
        self._host = host
        self._max_attempts = max_attempts
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._botocore_client = botocore_client
        self._session = session
        self._extra_headers = dict(extra_headers or {})
        self._clock = clock
        self._quota = RetryQuota()
        self._lock = threading.Lock()
        self._resolved = False
        self._endpoint: Endpoint | None = None

    def _make_api_call(self, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        endpoint = self.endpoint() if operation_name in SERVED else None
        if endpoint is None:
            return self._botocore_client()._make_api_call(operation_name, operation_kwargs)
        return self._call(endpoint, operation_name, operation_kwargs)

    def endpoint(self) -> Endpoint | None:
        """Where the served operations go; None when botocore serves everything. Found on
        first use (credentials, environment and config files, read through botocore's
        session) and kept; a failure (no credentials) is raised and looked up again next
        time."""
        if not self._resolved:
            with self._lock:
                if not self._resolved:
                    self._endpoint = self._resolve()
                    self._resolved = True
        return self._endpoint

    def _resolve(self) -> Endpoint | None:
        import botocore.session

        session = self._session() if self._session else botocore.session.get_session()
        url = endpoint_url(self._region, self._host, session)
        if url is None:
            return None
        transport, parts = KeepAlive.to_url(  # endpoint_url checked it is http(s)
            url,
            timeout_s=self._connect_timeout_s,
            read_timeout_s=self._read_timeout_s,
            ca_bundle=session.get_config_variable("ca_bundle"),
            connect_error=lambda error: _connect_error(error, url),
        )
        return Endpoint(
            url=url,
            host=host_header(parts),
            credentials=find_credentials(session),
            transport=transport,
        )

    # ------------------------------------------------------------------ one call

    def _call(self, endpoint: Endpoint, operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems" and "ClientRequestToken" not in params:
            params = {**params, "ClientRequestToken": str(uuid.uuid4())}
        body = json.dumps(params, default=_base64).encode()
        headers = {"X-Amz-Target": TARGET_PREFIX + operation, "Content-Type": CONTENT_TYPE}
        acquired: int | None = None  # the quota taken by the latest retry
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self._max_attempts
            try:
                answer = self._send(endpoint, body, headers)
            except (OSError, http.client.HTTPException, botocore.exceptions.BotoCoreError) as error:
                failure = _as_botocore(error, endpoint.url)
                if last or not self._quota.acquire(RETRY_COST):
                    raise failure from error
                acquired = RETRY_COST
                _sleep(backoff(TRANSIENT_BASE_S, attempt))
                continue
            parsed = parse(answer, operation)
            metadata = parsed["ResponseMetadata"]
            metadata["RetryAttempts"] = attempt - 1
            if last:
                metadata["MaxAttemptsReached"] = True
            code = parsed["Error"]["Code"] if answer.status >= 300 else None
            kind = retry_kind(answer, code, operation)
            if kind is not None and not last:
                cost = THROTTLING_RETRY_COST if kind == "throttling" else RETRY_COST
                if self._quota.acquire(cost):
                    acquired = cost
                    base = THROTTLING_BASE_S if kind == "throttling" else TRANSIENT_BASE_S
                    _sleep(backoff(base, attempt, _retry_after_s(answer)))
                    continue
                metadata["RetryQuotaReached"] = True
            if answer.status >= 300:
                error_response: Any = parsed  # botocore's stubs type it as a TypedDict
                raise botocore.exceptions.ClientError(error_response, operation)
            self._quota.release(NO_RETRY_INCREMENT if acquired is None else acquired)
            return parsed

    def _send(self, endpoint: Endpoint, body: bytes, headers: dict[str, str]) -> Answer:
        """One signed POST on the thread's kept-alive connection (`parley.adapters.keepalive`)."""
        assert self._region is not None  # endpoint_url serves no request without one
        signed = signed_headers(
            "POST",
            endpoint.host,
            "/",
            body,
            service=SERVICE,
            region=self._region,
            credential=endpoint.credentials.get_frozen_credentials(),
            now=self._clock(),
            headers=headers,
        )
        signed.update(self._extra_headers)  # unsigned, as pynamodb adds them to botocore's
        return endpoint.transport.post("/", body, signed)


# ---------------------------------------------------------------------- endpoint


def endpoint_url(
    region: str | None, host: str | None, session: botocore.session.Session
) -> str | None:
    """The URL botocore would send DynamoDB's item operations to, or None where only
    botocore serves: no region, FIPS or dual-stack endpoints, account-id endpoints
    required, a region of another partition, an endpoint with a path or query, a proxy."""
    if (
        region is None
        or session.get_config_variable("use_fips_endpoint")
        or session.get_config_variable("use_dualstack_endpoint")
        or session.get_config_variable("account_id_endpoint_mode") == "required"
    ):
        return None
    url = host or _configured_endpoint(session) or _regional_endpoint(region)
    if url is None:
        return None
    parts = urllib.parse.urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
    ):
        return None
    if urllib.request.getproxies().get(parts.scheme) and not urllib.request.proxy_bypass(
        parts.hostname
    ):
        return None
    return url


def _configured_endpoint(session: botocore.session.Session) -> str | None:
    """`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL` or the config file's, unless
    `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (botocore's ConfiguredEndpointProvider)."""
    if session.get_config_variable("ignore_configured_endpoint_urls"):
        return None
    from botocore.configprovider import ConfiguredEndpointProvider

    configured = ConfiguredEndpointProvider(
        full_config=session.full_config,
        scoped_config=session.get_scoped_config(),
        client_name=SERVICE,
    ).provide()
    return str(configured) if configured else None


def _regional_endpoint(region: str) -> str | None:
    for pattern, suffix in PARTITIONS:
        if pattern.match(region):
            return f"https://dynamodb.{region}.{suffix}"
    return None


# ---------------------------------------------------------------------- answers


def parse(answer: Answer, operation: str) -> dict[str, Any]:
    """The answer as botocore's client returns it (a success) or puts it in its ClientError
    (an error), less `RetryAttempts`, which the caller adds."""
    if answer.status >= 300:
        return _parse_error(answer)
    try:
        document = json.loads(answer.body) if answer.body else {}
    except ValueError:
        document = {}  # botocore reads no member from it either
    if not isinstance(document, dict):
        document = {}
    parsed = {k: v for k, v in document.items() if v is not None}
    _decode_binary(parsed, answer.body)
    metadata: dict[str, Any] = {}
    if "x-amzn-requestid" in answer.headers:
        metadata["RequestId"] = answer.headers["x-amzn-requestid"]
    metadata["HTTPStatusCode"] = answer.status
    metadata["HTTPHeaders"] = answer.headers
    parsed["ResponseMetadata"] = metadata
    return parsed


def _parse_error(answer: Answer) -> dict[str, Any]:
    """botocore's JSON error parse: a generic error for a 5xx with an empty or HTML body,
    else the code from `__type` (the status when there is none) and the message, then the
    error's modelled members."""
    stripped = answer.body.strip()
    if answer.status >= 500 and (not stripped or stripped.startswith(b"<html>")):
        message = http.client.responses.get(answer.status, "")
        parsed: dict[str, Any] = {
            "Error": {"Code": str(answer.status), "Message": message},
            "ResponseMetadata": {},
        }
    else:
        document = _json_or_message(answer.body)
        code = str(document.get("__type", answer.status)).split(":", 1)[0].rsplit("#", 1)[-1]
        message = document.get("message", document.get("Message", ""))
        parsed = {"Error": {"Message": message, "Code": code}, "ResponseMetadata": {}}
        if "x-amzn-requestid" in answer.headers:
            parsed["ResponseMetadata"]["RequestId"] = answer.headers["x-amzn-requestid"]
        for member in ERROR_MEMBERS.get(code, ()):
            if document.get(member) is not None:
                parsed[member] = document[member]
        _decode_binary(parsed, answer.body)
    parsed["ResponseMetadata"]["HTTPStatusCode"] = answer.status
    parsed["ResponseMetadata"]["HTTPHeaders"] = answer.headers
    return parsed


def _json_or_message(body: bytes) -> dict[str, Any]:
    """The error body as botocore reads it: its JSON object, or its text as the message."""
    if not body:
        return {}
    text = body.decode("utf-8", errors="replace")
    try:
        document = json.loads(text)
    except ValueError:
        return {"message": text}
    return document if isinstance(document, dict) else {}


def _decode_binary(node: Any, body: bytes) -> None:
    """Binary attribute values (`B`, `BS`: base64 on the wire) as bytes, in place, wherever
    they are (items, keys, cancellation reasons). No other member of DynamoDB's answers is
    named B or BS, and an attribute named so holds an attribute value (a dict), never a
    string. Skipped when the body has neither name (DynamoDB writes them unescaped), as
    most answers have no binary at all."""
    if b'"B"' in body or b'"BS"' in body:
        _decode(node)


def _decode(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "B" and isinstance(value, str):
                node[key] = base64.b64decode(value)
            elif key == "BS" and isinstance(value, list):
                node[key] = [base64.b64decode(v) if isinstance(v, str) else v for v in value]
            elif isinstance(value, dict | list):
                _decode(value)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, dict | list):
                _decode(value)


def _base64(value: object) -> str:
    """bytes in a request: only binary attribute values are bytes, and botocore sends them
    base64-encoded."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# ---------------------------------------------------------------------- retries


def retry_kind(answer: Answer, code: str | None, operation: str) -> str | None:
    """How botocore's standard mode retries an answer: "throttling", "transient" or None
    (not at all). Throttling codes, then the operation's retryable modelled errors, then a
    429 whose code the operation does not model; transient codes and statuses; a body that
    fails its CRC32."""
    modelled = OPERATION_ERRORS[operation]
    if code in THROTTLING_CODES:
        return "throttling"
    if code in MODELLED_RETRYABLE and code in modelled:
        return "transient"
    if answer.status == 429 and code not in modelled:
        return "throttling"
    if code in TRANSIENT_CODES or answer.status in TRANSIENT_STATUSES or corrupt(answer):
        return "transient"
    return None


def corrupt(answer: Answer) -> bool:
    """Whether the body fails the `x-amz-crc32` that DynamoDB sends with it."""
    checksum = answer.headers.get("x-amz-crc32")
    if checksum is None:
        return False
    try:
        return int(checksum) != zlib.crc32(answer.body) & 0xFFFFFFFF
    except ValueError:
        return True


def backoff(base_s: float, attempt: int, retry_after_s: float | None = None) -> float:
    """botocore's delay after the failed `attempt` (1-based): full jitter over an
    exponential growth capped at 20 s, raised to `x-amz-retry-after` by at most 5 s."""
    delay = random.random() * min(base_s * 2 ** (attempt - 1), MAX_BACKOFF_S)  # noqa: S311
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, delay + RETRY_AFTER_EXTRA_S))
    return delay


def _retry_after_s(answer: Answer) -> float | None:
    raw = answer.headers.get("x-amz-retry-after")
    try:
        value = int(raw) / 1000 if raw is not None else None
    except (ValueError, OverflowError):
        return None
    return value if value is None or value >= 0 else None


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # a name of its own, for tests to replace


class RetryQuota:
    """botocore's retry quota, per client: a retry takes 14 units (5 after throttling) of
    500, a success gives back what its last retry took (1 when it needed none), so a run of
    failures stops retrying before it multiplies the load."""

    def __init__(self, capacity: int = QUOTA_CAPACITY) -> None:
        self._capacity = capacity
        self._available = capacity
        self._lock = threading.Lock()

    def acquire(self, amount: int) -> bool:
        with self._lock:
            if amount > self._available:
                return False
            self._available -= amount
            return True

    def release(self, amount: int) -> None:
        if self._available == self._capacity:
            return
        with self._lock:
            self._available = min(self._capacity, self._available + amount)


# ---------------------------------------------------------------------- network errors


def _connect_error(error: OSError, url: str) -> botocore.exceptions.BotoCoreError:
    if isinstance(error, ssl.SSLError):
        return botocore.exceptions.SSLError(endpoint_url=url, error=error)
    if isinstance(error, TimeoutError):
        return botocore.exceptions.ConnectTimeoutError(endpoint_url=url, error=error)
    return botocore.exceptions.EndpointConnectionError(endpoint_url=url, error=error)


def _as_botocore(error: Exception, url: str) -> botocore.exceptions.BotoCoreError:
    """A failure during the exchange as botocore's HTTP session raises it."""
    if isinstance(error, botocore.exceptions.BotoCoreError):
        return error
    if isinstance(error, TimeoutError):
        return botocore.exceptions.ReadTimeoutError(endpoint_url=url, error=error)
    if isinstance(error, ConnectionError | http.client.HTTPException):
        return botocore.exceptions.ConnectionClosedError(endpoint_url=url)
    return botocore.exceptions.HTTPClientError(error=error)


# ---------------------------------------------------------------------- pynamodb


class LeanConnection(Connection):
    """pynamodb's Connection with `DynamoDBHttp` as its client: pynamodb's dispatch, signals
    and error handling unchanged; its botocore client made only for what the lean one passes
    on. pynamodb's own retry configuration ("LEGACY": standard mode, 1 + max_retry_attempts
    attempts) is the one implemented; any other gives the whole connection to botocore."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._lean = DynamoDBHttp(
            self.region,
            self.host,
            max_attempts=1 + self._max_retry_attempts_exception,
            connect_timeout_s=self._connect_timeout_seconds,
            read_timeout_s=self._read_timeout_seconds,
            botocore_client=self._botocore_client,
            session=lambda: self.session,
            extra_headers=self._extra_headers,
        )

    @classmethod
    def replacing(cls, connection: Connection) -> LeanConnection:
        """A LeanConnection with `connection`'s settings and table schemas."""
        lean = cls(
            region=connection.region,
            host=connection.host,
            read_timeout_seconds=connection._read_timeout_seconds,
            connect_timeout_seconds=connection._connect_timeout_seconds,
            max_retry_attempts=connection._max_retry_attempts_exception,
            retry_configuration=connection._retry_configuration or "UNSET",
            max_pool_connections=connection._max_pool_connections,
            extra_headers=connection._extra_headers,
            aws_access_key_id=connection._aws_access_key_id,
            aws_secret_access_key=connection._aws_secret_access_key,
            aws_session_token=connection._aws_session_token,
        )
        for table in connection._tables.values():
            lean.add_meta_table(table)
        return lean

    @property
    def client(self) -> Any:  # pynamodb calls only its _make_api_call
        if self._retry_configuration != "LEGACY":
            return self._botocore_client()
        return self._lean

    def _botocore_client(self) -> Any:
        return super().client

    def __repr__(self) -> str:
        return f"LeanConnection<{self.host or self.region}>"
