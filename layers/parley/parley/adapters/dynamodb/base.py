"""The single-table base model, binding to a table, and paging cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import TableConnection
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from parley.errors import InvalidCursor

T = TypeVar("T")


_M = TypeVar("_M", bound="Item")

# The shared client's retries: botocore's standard mode retries throttling
# (ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded) and
# transient errors with capped exponential backoff and full jitter, 1 s * 2^n * random()
# for throttling. Five attempts keep the expected backoff (0.5 + 1 + 2 + 4 s) inside the
# WebSocket functions' 10 s timeout; "adaptive" would add a client-side rate limiter per
# sandbox, which cannot see the other sandboxes and only adds waiting. pynamodb builds this
# from Meta.max_retry_attempts as {"mode": "standard", "total_max_attempts": 1 + retries};
# tests/functional/test_faults.py checks the client it builds. The lean client
# (adapters.dynamodb.transport) implements the same mode with the same attempts;
# tests/functional/test_dynamodb_http.py checks it.
DYNAMODB_MAX_ATTEMPTS = 5


class Gsi1(GlobalSecondaryIndex[_M]):
    """GSI1: users to their memberships, public channels by name, thread replies by ts."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class Item(Model):
    """Every item of the application table: PK and SK, and the optional GSI1 keys."""

    class Meta:
        table_name: str | None = None  # set by bind() from the environment, at the edge
        region = "us-east-1"
        host: str | None = None
        # pynamodb turns this into botocore's `retries` (see DYNAMODB_MAX_ATTEMPTS above).
        max_retry_attempts = DYNAMODB_MAX_ATTEMPTS - 1

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)

    gsi1: Gsi1[Any] = Gsi1()  # subclasses narrow it to their own type


# The clients under pynamodb's connection: "lean" is DynamoDB's JSON protocol over
# http.client (`adapters.dynamodb.transport`), "botocore" pynamodb's own client. Benchmarks
# and tests that count or fake requests with botocore's event hooks, and moto in process
# (which intercepts botocore only), bind "botocore"; everything else runs lean
# (docs/decisions.md).
CLIENTS = ("lean", "botocore")


def bind(
    table_name: str, region: str = "us-east-1", host: str | None = None, client: str = "lean"
) -> None:
    """Point every item model at `table_name`, sharing one connection.

    pynamodb gives each model class its own botocore client, created on first use: with a
    dozen item types that is a dozen clients, tens of milliseconds each on a cold start.
    Every model here has the same key schema and index, so the base's connection serves all
    of them: a subclass finds `_connection` on the base and keeps it, since the table name
    matches. `client` is the client under that connection (`CLIENTS`; the functions take it
    from PARLEY_DYNAMODB_CLIENT).
    """
    if client not in CLIENTS:
        raise ValueError(f"client must be one of {', '.join(CLIENTS)}, not {client!r}")
    Item.Meta.table_name = table_name
    Item.Meta.region = region
    Item.Meta.host = host
    for model in _all_models(Item):
        model.Meta.table_name = table_name
        if "_connection" in vars(model):  # a connection of its own would shadow the base's
            del model._connection
    Item._connection = None
    connection: TableConnection = Item._get_connection()
    if client == "lean":
        from parley.adapters.dynamodb.transport import LeanConnection

        connection.connection = LeanConnection.replacing(connection.connection)
    Item._connection = connection


def _all_models(root: type[Model]) -> Iterator[type[Model]]:
    for sub in root.__subclasses__():
        yield sub
        yield from _all_models(sub)


def client() -> Any:
    """The DynamoDB client behind every model: the lean one or botocore's, as bound."""
    return Item._get_connection().connection.client


def botocore_client() -> Any:
    """The botocore client behind every model, for benchmarks and tests that count or fake
    requests with its event hooks; they bind with `client="botocore"` (the lean client has
    no hooks, and it would not be counted)."""
    from parley.adapters.dynamodb.transport import DynamoDBHttp

    found = client()
    if isinstance(found, DynamoDBHttp):
        raise RuntimeError('the store is bound to the lean client: bind(..., client="botocore")')
    return found


# ------------------------------------------------------------------ cursors


def encode_cursor(position: dict[str, Any] | None) -> str | None:
    if not position:
        return None
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, required: Iterable[str] = ()) -> dict[str, Any] | None:
    """A cursor that this server made, or a 400: a forged one never reaches DynamoDB."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor("cursor is not valid") from None
    if not isinstance(value, dict) or any(not isinstance(value.get(key), str) for key in required):
        raise InvalidCursor("cursor is not valid")
    return value


# ------------------------------------------------------------------ transactions


def transaction() -> Any:
    """A pynamodb TransactWrite on the shared connection (no second botocore client).

    pynamodb sends the items grouped, not in call order: condition checks, then deletes,
    then puts, then updates. Cancellation reasons are indexed in that order.
    """
    from pynamodb.transactions import TransactWrite

    return TransactWrite(connection=Item._get_connection().connection)


def cancelled_by_condition(error: Exception, index: int) -> bool:
    """Whether the transaction item at `index` failed its condition (not throttling etc.)."""
    reasons = getattr(error, "cancellation_reasons", None) or []
    return (
        index < len(reasons)
        and reasons[index] is not None
        and reasons[index].code == "ConditionalCheckFailed"
    )


def batch_get(model: type[T], keys: list[tuple[str, str]]) -> list[T]:
    """BatchGetItem in pages of 100 keys, retrying unprocessed keys (pynamodb does both)."""
    if not keys:
        return []
    unique = list(dict.fromkeys(keys))
    return list(model.batch_get(unique))  # type: ignore[attr-defined]  # T is any item type; pynamodb's Model methods are not on a bare TypeVar


def get_or_none(model: type[T], pk: str, sk: str, consistent: bool = False) -> T | None:
    try:
        return model.get(pk, sk, consistent_read=consistent)  # type: ignore[attr-defined]  # T is any item type; pynamodb's Model methods are not on a bare TypeVar
    except model.DoesNotExist:  # type: ignore[attr-defined]  # T is any item type; its DoesNotExist is pynamodb's
        return None


def epoch(seconds: int) -> datetime:
    """A TTL attribute's value from epoch seconds (pynamodb wants an aware datetime)."""
    return datetime.fromtimestamp(seconds, UTC)


def condition_failed(error: Exception) -> bool:
    """Whether a put, update or delete failed its condition expression."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def conditional(write: Callable[[], object]) -> bool:
    """Runs one conditional put, update or delete; False when its condition failed."""
    try:
        write()
    except (PutError, UpdateError, DeleteError) as error:
        if condition_failed(error):
            return False
        raise
    return True


def query_page(
    model: type[T], pk: str, condition: Any, limit: int, cursor: str | None
) -> tuple[list[T], str | None]:
    """One page of a partition, in key order, and the cursor to the next page (None at the end).

    The cursor carries only the sort key: the partition is always this query's own, so a
    cursor from elsewhere can neither read another partition nor break the query.
    """
    start = decode_cursor(cursor, required=("SK",))
    result = model.query(  # type: ignore[attr-defined]  # T is any item type; pynamodb's Model methods are not on a bare TypeVar
        pk,
        condition,
        limit=limit,
        last_evaluated_key={"PK": {"S": pk}, "SK": {"S": start["SK"]}} if start else None,
    )
    items = list(result)
    last = result.last_evaluated_key
    return items, encode_cursor({"SK": last["SK"]["S"]} if last else None)
