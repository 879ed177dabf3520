"""DynamoDB request units of the calls a botocore client makes, worked out from what each
call sent and what came back (moto's own ConsumedCapacity figures are not DynamoDB's).

On-demand pricing: a read unit per 4 KB read strongly consistent (half for eventually
consistent), per item for GetItem and BatchGetItem, over the summed size for Query and Scan;
a write unit per 1 KB written, twice that inside a transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from math import ceil
from typing import Any


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size, near enough: names plus values (numbers count about 21 bytes)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind in ("S", "B"):
        return len(str(inner).encode())
    if kind == "N":
        return 21
    if kind in ("SS", "BS"):
        return sum(len(str(v).encode()) for v in inner)
    if kind == "L":
        return 3 + sum(_value_bytes(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_bytes(v) + 1 for k, v in inner.items())
    return 1


@dataclass
class Units:
    read: float = 0.0
    write: float = 0.0
    requests: dict[str, int] = field(default_factory=dict)


def _read_units(items: list[dict[str, Any]], consistent: bool, per_item: bool) -> float:
    factor = 1.0 if consistent else 0.5
    if per_item:
        return sum(ceil(max(item_bytes(i), 1) / 4096) * factor for i in items)
    return ceil(max(sum(item_bytes(i) for i in items), 1) / 4096) * factor


def _write_units(item: dict[str, Any] | None) -> float:
    return float(ceil(max(item_bytes(item or {}), 1) / 1024))


def _transact_units(params: dict[str, Any]) -> float:
    # A transactional write costs two units per 1 KB of each item.
    return sum(
        2 * _write_units(next(iter(t.values())).get("Item")) for t in params["TransactItems"]
    )


def _batch_write_units(params: dict[str, Any]) -> float:
    writes = [w for table in params["RequestItems"].values() for w in table]
    return sum(_write_units(w.get("PutRequest", {}).get("Item")) for w in writes)


def _batch_get_units(parsed: dict[str, Any]) -> float:
    items = [i for table in parsed.get("Responses", {}).values() for i in table]
    return _read_units(items, consistent=False, per_item=True)


def charge(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> tuple[float, float]:
    """(read units, write units) of one call, from what it sent and what came back.

    Reads are charged on the items returned: a Query that projects attributes reads (and
    pays for) whole items, so member Queries are a little under-counted here.
    """
    consistent = bool(params.get("ConsistentRead"))
    reads: dict[str, Callable[[], float]] = {
        "GetItem": lambda: _read_units([parsed.get("Item") or {}], consistent, per_item=True),
        "Query": lambda: _read_units(parsed.get("Items", []), consistent, per_item=False),
        "Scan": lambda: _read_units(parsed.get("Items", []), consistent, per_item=False),
        "BatchGetItem": lambda: _batch_get_units(parsed),
    }
    writes: dict[str, Callable[[], float]] = {
        "PutItem": lambda: _write_units(params.get("Item")),
        "UpdateItem": lambda: 1.0,
        "DeleteItem": lambda: 1.0,
        "TransactWriteItems": lambda: _transact_units(params),
        "BatchWriteItem": lambda: _batch_write_units(params),
    }
    if operation in reads:
        return reads[operation](), 0.0
    if operation in writes:
        return 0.0, writes[operation]()
    return 0.0, 0.0


@contextmanager
def request_units(client: Any) -> Iterator[Units]:
    units = Units()

    def after(http_response: Any, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
        params = kwargs.get("context", {}).get("bench_params", {})
        read, write = charge(model.name, params, parsed)
        units.read += read
        units.write += write
        units.requests[model.name] = units.requests.get(model.name, 0) + 1

    def keep_params(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = params

    events = client.meta.events
    events.register("provide-client-params.dynamodb.*", keep_params)
    events.register("after-call.dynamodb.*", after)
    try:
        yield units
    finally:
        events.unregister("provide-client-params.dynamodb.*", keep_params)
        events.unregister("after-call.dynamodb.*", after)
