"""The stack's moto server (`python -I local/moto_main.py`), less the costs that made it the
local stack's bottleneck. Each change keeps moto's answers as they were, but for the moto
bugs that three of them fix (a cancelled transaction, concurrent stream writes, the pending
set read while it changes); only the work to reach them changes. Each is one function in
`PATCHES`, and tests/functional/test_moto_patches.py reproduces on stock moto what it changes
and compares the answers with stock moto's.

Measured on this machine (CPU of the moto process per request):

- moto finds the service of each request by listing its own package directory and calling
  `isdir` on every entry, under a lock that all request threads share. The list never
  changes while the server runs, so it is computed once (GetItem 3.6-4.2 → 3.0-3.6 ms).
- A Query sorted every item of the table, then kept the partition asked for: 17-22 ms with
  a few thousand items, growing with the table (DynamoDB's grows with the result). A base
  table Query now starts from its partition; an index Query skips the sort of the whole
  table (it sorts its matches by the index's keys anyway, a total order).
- Within the partition, a base table Query then computed the size of every item, matching
  its sort key condition or not, and sorted them all: moto's CPU for a channel's audience
  (ten memberships, `MEMBER#` to `META`) was 0.4 ms in an empty channel, 2.3 ms with 200
  messages in it and 10.0 ms with 1,000, paid twice per message sent (the post and the
  notifier). The partition is now narrowed to the items that meet the sort key condition
  (moto's comparison, each key cast once; the query applies it again) and the nearest
  item on either side, on which moto's paging decides: 0.4, 0.6 and 1.5 ms. The answer is
  the same, except that a page near 1 MB is no longer cut short by a large item outside
  the condition (DynamoDB reads only the items that meet it).
- A Scan sorted every item of the table on each page, then walked them from the first,
  comparing each with the page's start key until it passed it: O(table) per page, so
  reading a table of 101,483 items (the import benchmark's baseline) took 67 s. A base
  table Scan now reads the items after its start key in the same order.
- GetRecords ran every stream record through moto's generic, model-driven serializer: about
  1.2 ms a record, paid by each of the stream's three consumers. The records are kept in
  their wire form already, so they are written as JSON directly.
- ReceiveMessage checked each message's retention by building every attribute of its
  queue, three message counts among them, twice over: O(queue) per message received, and
  each count asked the clock per message through two datetimes. The soak runs without
  OpenSearch, so the index queue keeps every message for its retries, thousands of them:
  58% of moto's CPU went there (py-spy, GIL holder). The retention check reads the one
  attribute, and the queue's clock is `time.time()`, read once for the list of visible
  messages that every waiting poller recomputes on each message sent.
- moto 5.2 writes every answer by walking the service's model, member by member and, for
  DynamoDB, attribute value by attribute value: a channel's audience (eleven items of seven
  attributes) took 7.7 ms of moto's CPU for the request, nearly all of it there. The item
  actions' answers (GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan, BatchGetItem,
  TransactGetItems) are already in wire form but for binary values, so they are written
  as JSON directly, the model's output members only: 0.8 ms (1.6 ms with 200 or 1,000
  messages in the channel, where moto's own took 10.2 and 17.5 ms).
- ReceiveMessage read the queue's pending set while other request threads changed it: a
  500 now and then ("Set changed size during iteration"); it reads a snapshot. For each
  in-flight message whose visibility had timed out, it also deep-copied the queue's pending
  message groups, which moto consults only for FIFO queues: O(n^2) on the soak's full index
  queue, 21% of moto's busy samples. A standard queue has no groups now.
- SendMessage built every attribute of the queue to read ContentBasedDeduplication, three
  message counts among them, each a pass over the queue reading the clock per message:
  4.0 of 5.1 ms per send with 10,000 messages in flight, and a third of moto's busy
  samples late in a full soak. A send no longer counts (GetQueueAttributes still does).
- Each request listed the response class's methods with `inspect.getmembers` to find the
  action's handler; the list is computed once per class.
- TransactWriteItems deep-copied every table it touched, items and stream records and all,
  before it started, and a cancelled one put the copy in the table's place: O(table) CPU
  and memory per transaction (the soak's setup, 480 invite acceptances, grew moto past
  6 GB; 59 acceptances added 81 MB, 5 MB now). The transaction
  now keeps only the items it names, and a cancellation puts those back in the live table;
  its stream records are written when it commits, so a cancelled one has none to take back.
- A stream record's sequence number was the shard's length read before the append, so
  records added at once by two request threads shared one (9 in 3,637 in a 1,000-message
  soak) and a reader got one of them twice; records are now added one at a time.
- werkzeug's development server, which `moto_server` runs, closes every connection after
  one request (it sends `Connection: close` always) and starts a thread per connection, so
  each request of every function paid a TCP connect and a thread start. waitress, which
  kept connections alive and served them from a fixed set of threads, cut moto's CPU per
  request by 17-21% in the sendMessage mix (UpdateItem, Query, PutItem, BatchGetItem from
  eight client processes). Its poll loop, though, visits every open connection on each
  turn and hands each request to a thread and back: a quarter of moto's CPU with the
  stack's hundred-odd kept-alive connections. An aiohttp server (`AsyncFront`) now answers
  the item, stream and queue actions on its event loop and the rest (long polls, scans,
  S3, SNS, Cognito) on request threads: moto's CPU per request 18-30% lower than under
  waitress in each of five adjacent pairs of runs (the same mix; 1.43-1.86 ms against
  1.98-2.59, at load averages of 1.3 to 5). Like waitress, it drops request
  headers whose names hold an underscore; moto's own handler put those back for S3
  metadata keys, which Parley does not use.
- A DynamoDB, DynamoDB Streams or SQS request went through moto's per-request backend
  lookup (under a lock), a Flask app (request context, URL routing, CORS hooks) and then
  the response class's `dispatch`; it now goes straight to `dispatch`
  (`JsonProtocolFront`): moto's CPU per request 8-10% lower in the sendMessage mix on a
  quiet machine (adjacent runs: 1.73 against 1.89, 1.92 against 2.09, 2.31 against 2.56
  ms; 19-34% while a test suite ran beside it). Replies are the same but for the CORS header
  `Access-Control-Allow-Origin: *`, which only a browser reads and none calls these APIs.
- The narrowing above still cast and tested every sort key of the partition, and a
  channel's messages share its partition: a channel's audience cost 2.8 ms of moto's CPU
  with 300 messages in the channel and 14.5 ms with 3,000. A table with a sort key now
  keeps each partition's keys in order as they are written (`SortedPartition`), and the
  Query bisects them: 2.2 and 2.3 ms.
- moto keeps every item, stream record and queue message as Python objects, and the
  interpreter's full collections walk all of them: at 50 messages a second one came every
  five to eight seconds and held moto for 135-280 ms, growing with the run, and every
  request waited behind it. After each full collection the survivors are frozen
  (`gc.freeze`), so the next one walks only what came since: 11-27 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import calendar
import contextlib
import copy
import datetime
import functools
import gc
import io
import json
import logging
import os
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from botocore.exceptions import ClientError
from moto import backends
from moto.core import responses
from moto.core import utils as moto_utils
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.request import Request as MotoRequest
from moto.core.responses import ActionContext, BaseResponse
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.comparisons import get_comparison_func
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.moto_api import recorder
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs import models as sqs_models
from moto.sqs.models import Message, Queue, SQSBackend
from moto.sqs.responses import SQSResponse
from werkzeug.wrappers import Response

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _QueryScope:
    table: Table
    hash_key: Any  # None: an index query
    range_comparison: str | None = None  # a base table's sort key condition, as moto has it
    range_objs: tuple[Any, ...] = ()


_query_scope = threading.local()  # per request thread: the running Query's _QueryScope


def _partition_items(original: Callable[[Table], list[Any]]) -> Callable[[Table], list[Any]]:
    """`Table.all_items`, narrowed to what the running Query can match."""

    def all_items(self: Table) -> list[Any]:
        scope: _QueryScope | None = getattr(_query_scope, "value", None)
        if scope is None or scope.table is not self:
            return original(self)
        if scope.hash_key is None:  # an index: every item, unsorted (the query sorts its matches)
            # Copies of the dicts' views, each taken in one step under the interpreter lock:
            # a write on another request thread may add a partition meanwhile (a walk of
            # the live dict would fail with "dictionary changed size during iteration").
            partitions = list(self.items.values())
            if self.range_key_attr:
                partitions = [item for partition in partitions for item in list(partition.values())]
            return partitions
        if scope.hash_key not in self.items:  # a defaultdict: looking would add the partition
            return []
        partition = self.items[scope.hash_key]
        if not self.range_key_attr:
            return [partition]
        if scope.range_comparison is None:
            return list(partition.values())
        comparison, objs = scope.range_comparison, scope.range_objs
        found = None
        if isinstance(partition, SortedPartition):
            found = partition.matches_and_neighbours(comparison, objs)
        return (
            found
            if found is not None
            else _matches_and_neighbours(partition, comparison, list(objs))
        )

    return all_items


def _cast(key: DynamoType) -> Any:
    return key.cast_value


class SortedPartition(dict[Any, Any]):
    """One partition of a table with a sort key, as moto keeps it (sort key to item), that
    also keeps its sort keys in order, so that a Query with a sort key condition finds its
    items by bisection (see the module's docstring). moto only assigns, pops and reads a
    partition's keys; a copy (moto deep-copies a table to back it up) rebuilds the order."""

    __slots__ = ("_order",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._order: list[DynamoType] = sorted(self, key=_cast)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (dict(self),)

    def __setitem__(self, key: DynamoType, item: Any) -> None:
        if key not in self:
            bisect.insort(self._order, key, key=_cast)
        super().__setitem__(key, item)

    def __delitem__(self, key: DynamoType) -> None:
        super().__delitem__(key)
        del self._order[self._index(key)]

    _MISSING = object()

    def pop(self, key: DynamoType, default: Any = _MISSING) -> Any:
        if key not in self:
            if default is SortedPartition._MISSING:
                raise KeyError(key)
            return default
        item = self[key]
        del self[key]  # one way out of the order: __delitem__
        return item

    def _index(self, key: DynamoType) -> int:
        return bisect.bisect_left(self._order, key.cast_value, key=_cast)

    def _bounds(self, comparison: str, values: list[Any]) -> tuple[int, int] | None:
        """The slice of the order whose keys meet the condition, or None for a condition
        that is not a sort key condition."""
        order = self._order

        def left(value: Any) -> int:
            return bisect.bisect_left(order, value, key=_cast)

        def right(value: Any) -> int:
            return bisect.bisect_right(order, value, key=_cast)

        bounds: tuple[int, int] | None = None
        match comparison, values:
            case ("EQ" | "=", [value]):
                bounds = left(value), right(value)
            case ("LT" | "<", [value]):
                bounds = 0, left(value)
            case ("LE" | "<=", [value]):
                bounds = 0, right(value)
            case ("GT" | ">", [value]):
                bounds = right(value), len(order)
            case ("GE" | ">=", [value]):
                bounds = left(value), len(order)
            case ("BETWEEN", [low, high]):
                bounds = left(low), max(left(low), right(high))
            case ("BEGINS_WITH", [str() | bytes() as prefix]):
                start = end = left(prefix)
                while end < len(order) and order[end].cast_value.startswith(prefix):
                    end += 1
                bounds = start, end
        return bounds

    def matches_and_neighbours(self, comparison: str, objs: tuple[Any, ...]) -> list[Any] | None:
        """What `_matches_and_neighbours` answers, found by bisection (None: a condition it
        does not know, for the caller to scan)."""
        try:
            bounds = self._bounds(comparison, [obj.cast_value for obj in objs])
        except TypeError:  # a bound of another type than the keys: moto's own scan decides
            return None
        if bounds is None:
            return None
        start, end = bounds
        if start >= end:
            return []
        keys = self._order[start:end]
        if start > 0:
            keys.append(self._order[start - 1])
        if end < len(self._order):
            keys.append(self._order[end])
        return [self[key] for key in keys]


def _sorted_partitions(original: Callable[..., None]) -> Callable[..., None]:
    """`Table.__init__`, keeping a table's partitions as SortedPartition when it has a sort key."""

    def __init__(self: Table, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.range_key_attr:
            self.items = defaultdict(SortedPartition, self.items)

    return __init__


def _matches_and_neighbours(
    partition: dict[Any, Any], comparison: str, objs: list[Any]
) -> list[Any]:
    """The items whose sort key meets the condition (an interval of the sort order), and the
    nearest item on either side of it. moto checks its Limit on the item after the last
    match, matching or not: the neighbours keep its LastEvaluatedKey as it was. Keys are
    compared as `DynamoType.compare` and its ordering do, on their cast values, each cast
    once."""
    meets = get_comparison_func(comparison)
    bounds = [obj.cast_value for obj in objs]
    keyed = [(range_key.cast_value, item) for range_key, item in partition.items()]
    matches = [(key, item) for key, item in keyed if meets(key, *bounds)]
    if not matches:
        return []
    low, high = min(key for key, _ in matches), max(key for key, _ in matches)
    chosen = [item for _, item in matches]
    below = [(key, item) for key, item in keyed if key < low]
    above = [(key, item) for key, item in keyed if key > high]
    if below:
        chosen.append(max(below, key=lambda pair: pair[0])[1])
    if above:
        chosen.append(min(above, key=lambda pair: pair[0])[1])
    return chosen


def _scoped_query(original: Callable[..., Any]) -> Callable[..., Any]:
    """`Table.query`, telling `all_items` which partition (or index) it reads, and for a
    base table the sort key condition that moto applies to each candidate."""

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # moto's backend passes range_comparison, range_objs, ... positionally, index_name
        # eighth; a condition on several sort key attributes is left to moto alone.
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        range_comparison = args[0] if args else kwargs.get("range_comparison")
        range_objs = args[1] if len(args) > 1 else kwargs.get("range_objs")
        if index_name:
            _query_scope.value = _QueryScope(self, None)
        elif range_comparison and range_objs and len(kwargs.get("range_key_conditions") or ()) < 2:
            _query_scope.value = _QueryScope(self, hash_key, range_comparison, tuple(range_objs))
        else:
            _query_scope.value = _QueryScope(self, hash_key)
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            _query_scope.value = None

    return query


_scan_from = threading.local()  # per request thread: the running base table Scan's start key


def _scan_order(table: Table, start: dict[str, Any] | None) -> list[Any]:
    """The table's items in stock `all_items`'s order (by hash key, then sort key: moto's
    comparison, each key cast once), after `start` if given."""
    # Copies taken in one step each (a request thread may add a partition meanwhile).
    snapshot = list(table.items.items())
    partitions = sorted(snapshot, key=lambda pair: _cast(pair[0]))
    after_hash = after_range = None
    if start is not None:
        after_hash = DynamoType(start[table.hash_key_attr]).cast_value
        if table.range_key_attr:
            after_range = DynamoType(start[table.range_key_attr]).cast_value
    found: list[Any] = []
    for hash_key, partition in partitions:
        cast = _cast(hash_key)
        if after_hash is not None and (
            cast < after_hash or (cast == after_hash and not table.range_key_attr)
        ):
            continue
        if not table.range_key_attr:
            found.append(partition)
            continue
        keys = list(partition._order if isinstance(partition, SortedPartition) else partition)
        order = keys if isinstance(partition, SortedPartition) else sorted(keys, key=_cast)
        if after_hash is not None and cast == after_hash:
            order = order[bisect.bisect_right(order, after_range, key=_cast) :]
        found.extend(item for key in order if (item := partition.get(key)) is not None)
    return found


def _resumed_scans(original: Callable[[Table], list[Any]]) -> Callable[[Table], list[Any]]:
    """`Table.all_items` for a base table Scan: from the start key on, without sorting."""

    def all_items(self: Table) -> list[Any]:
        scope = getattr(_scan_from, "value", None)
        if scope is None or scope[0] is not self:
            return original(self)
        return _scan_order(self, scope[1])

    return all_items


def _scoped_scan(original: Callable[..., Any]) -> Callable[..., Any]:
    """`Table.scan`, telling `all_items` the base table Scan's start key."""

    def scan(self: Table, *args: Any, **kwargs: Any) -> Any:
        # moto's backend passes filters, limit, exclusive_start_key, filter_expression,
        # index_name, ... positionally.
        start = args[2] if len(args) > 2 else kwargs.get("exclusive_start_key")
        index_name = args[4] if len(args) > 4 else kwargs.get("index_name")
        if index_name:
            return original(self, *args, **kwargs)
        _scan_from.value = (self, start or None)
        try:
            return original(self, *args, **kwargs)
        finally:
            _scan_from.value = None

    return scan


def _wire_default(value: Any) -> Any:
    """What moto's serializer writes for the two non-JSON values in a record: binary
    attributes as base64, ApproximateCreationDateTime as epoch seconds of the (naive UTC)
    datetime, truncated to milliseconds."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):
        seconds = calendar.timegm(value.timetuple())
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    raise TypeError(f"{type(value).__name__} in a stream record")


def _get_records_as_json(self: DynamoDBStreamsHandler) -> str:
    """GetRecords: the records moto keeps in wire form, written as JSON."""
    limit = self._get_param("Limit")
    result = self.backend.get_records(self._get_param("ShardIterator"), limit or 1000)
    return json.dumps(result, default=_wire_default, separators=(",", ":"))


# DynamoDB's item actions that moto answers with a DynamoResult: answers of attribute values,
# counts, keys and consumed capacity, plain JSON types but for binary values (bytes); never a
# timestamp. (BatchWriteItem and TransactWriteItems, answered without items, are moto's plain
# ActionResult, which this change leaves to the serializer.)
_ITEM_ACTIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "TransactGetItems",
    }
)


def _item_answers_as_json(
    original: Callable[[DynamoResult, ActionContext], Any],
) -> Callable[[DynamoResult, ActionContext], Any]:
    """`DynamoResult.execute_result`: an item action's answer, already in wire form but for
    its binary values, written as JSON directly instead of walked through the model, member
    by member and attribute value by attribute value."""

    def execute_result(self: DynamoResult, context: ActionContext) -> Any:
        if context.operation_model.name not in _ITEM_ACTIONS:
            return original(self, context)
        members = context.operation_model.output_shape.members  # type: ignore[union-attr] # every item action has an output
        # As the model does: only the operation's output members (moto adds a few of its own).
        answer = {
            name: value
            for name, value in self.result.items()  # type: ignore[attr-defined]  # moto's ActionResult keeps its answer in an untyped attribute
            if name in members and value is not None
        }
        body = json.dumps(answer, default=_wire_default, separators=(",", ":"))
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    return execute_result


class _CopyAllButTables:
    """The dynamodb models' `copy` module, except that a Table is not copied: the
    transaction's own copy of the whole table is what `_restoring_transactions` replaces."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_held = threading.local()  # .records: the stream records of the transaction this thread runs


def _added_in_turn(original: Callable[[StreamShard, Any, Any], None]) -> Callable[..., None]:
    """`StreamShard.add`, one record at a time. moto numbers a record by the shard's length,
    read before the append: two request threads adding at once gave two records the same
    number (9 of 3,637 records in a 1,000-message soak), and a reader's iterator, which
    resumes after the highest number it read, read one of them twice."""
    lock = threading.Lock()

    def add(self: StreamShard, old: Any, new: Any) -> None:
        with lock:
            original(self, old, new)

    return add


def _held_until_commit(original: Callable[[StreamShard, Any, Any], None]) -> Callable[..., None]:
    """`StreamShard.add`, holding back the records of the transaction this thread runs
    until it commits (`_restoring_transactions`)."""

    def add(self: StreamShard, old: Any, new: Any) -> None:
        held: list[tuple[StreamShard, Any, Any]] | None = getattr(_held, "records", None)
        if held is not None:
            held.append((self, old, new))
            return
        original(self, old, new)

    return add


def _restoring_transactions(original: Callable[..., None]) -> Callable[..., None]:
    """`transact_write_items`, undone by putting back the items it names when it is
    cancelled or refused. Its stream records are written when it commits, so a cancelled
    one leaves none: until 2026-12-03 they were cut off the stream's end, and with them
    the records that other request threads had added meanwhile, while the numbers of the
    records after them no longer matched their places (a reader could skip one)."""

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for operation in transact_items:
            for request in operation.values():
                table = self.tables.get(request.get("TableName", ""))
                if table is not None:
                    key = _item_key(table, request.get("Key") or request.get("Item") or {})
                    if key is not None:
                        saved.append((table, key, copy.deepcopy(_stored(table, key))))
        records: list[tuple[StreamShard, Any, Any]] = []
        _held.records = records
        try:
            original(self, transact_items)
        except Exception:
            for table, key, item in reversed(saved):
                _store(table, key, item)
            raise
        finally:
            _held.records = None
        for shard, old, new in records:
            shard.add(old, new)

    return transact_write_items


def _item_key(table: Table, attributes: dict[str, Any]) -> tuple[Any, Any] | None:
    try:
        hash_key = DynamoType(attributes[table.hash_key_attr])
        range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    except (KeyError, TypeError):
        return None  # a malformed request: moto refuses it before writing anything
    return hash_key, range_key


def _stored(table: Table, key: tuple[Any, Any]) -> Any:
    hash_key, range_key = key
    if hash_key not in table.items:  # a defaultdict: looking would add the partition
        return None
    return table.items[hash_key].get(range_key) if table.range_key_attr else table.items[hash_key]


def _store(table: Table, key: tuple[Any, Any], item: Any) -> None:
    hash_key, range_key = key
    if not table.range_key_attr:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    elif item is None:
        if hash_key in table.items:
            table.items[hash_key].pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item


def _unix_time(moment: datetime.datetime | None = None) -> float:
    """moto's `unix_time`: now from the clock, not from two datetimes built and subtracted."""
    return time.time() if moment is None else moto_utils.unix_time(moment)


def _unix_time_millis(moment: datetime.datetime | None = None) -> float:
    return _unix_time(moment) * 1000.0


def _retained(self: SQSBackend, queue_name: str, message: Message) -> bool:
    """`is_message_valid_based_on_retention_period`, reading the one attribute it needs."""
    # Set from the queue's attributes (an int, as _set_attributes casts it); at send.
    retention_s: int = getattr(self.get_queue(queue_name), "message_retention_period")  # noqa: B009 - set by setattr, unknown to the stubs
    sent_ms: int = message.sent_timestamp  # type: ignore[assignment] # set when sent
    return retention_s + sent_ms / 1000 > _unix_time()


def _visible_messages(self: Queue) -> list[Message]:
    """`Queue.messages`: those neither in flight nor delayed, against one reading of the
    clock instead of two per message (each poller evaluates it on every message sent)."""
    now_ms = time.time() * 1000
    return [
        message
        for message in self._messages
        if now_ms > message.visible_at and not now_ms < message.delayed_until
    ]


_sending_to = threading.local()  # .queue: the queue this request thread's SendMessage fills


def _sends_without_counts(original: Callable[..., Message]) -> Callable[..., Message]:
    """`SQSBackend.send_message` (SendMessageBatch calls it per entry), which builds all of
    the queue's attributes to read ContentBasedDeduplication, and with them three message
    counts, each a pass over the queue: 4.0 of 5.1 ms per send with 10,000 messages in
    flight, and 32% of moto's busy samples late in a full soak. While it runs, the counts of
    its queue are not computed (`_uncounted_while_sending`)."""

    @functools.wraps(original)
    def send_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Message:
        _sending_to.queue = self.get_queue(queue_name)
        try:
            return original(self, queue_name, *args, **kwargs)
        finally:
            _sending_to.queue = None

    return send_message


def _uncounted_while_sending(count: property) -> property:
    """One of the queue's three message counts (a pass over its messages), 0 for a queue
    that this thread's SendMessage is filling: the send builds the attributes, counts and
    all, and reads none of the counts."""

    def uncounted(self: Queue) -> int:
        if getattr(_sending_to, "queue", None) is self:
            return 0
        value: int = count.fget(self)  # type: ignore[misc]  # a property's fget, called as the unpatched count
        return value

    return property(uncounted)


def _pending_message_groups(self: Queue) -> set[str]:
    """`Queue.pending_message_groups`, over a snapshot of the pending set (copied in one
    step under the interpreter lock): every ReceiveMessage reads it while other request
    threads add to it, and moto's own loop failed with "Set changed size during
    iteration", a 500 to the poller (seven times in a full soak). A standard queue has no
    groups to wait for."""
    if not self.fifo_queue:
        # moto consults the groups only for FIFO queues, and ReceiveMessage deep-copies them
        # once per timed-out pending message: O(n^2) on the soak's full index queue.
        return set()
    pending = tuple(self._pending_messages)
    return {message.group_id for message in pending if message.group_id is not None}


@contextlib.contextmanager
def one_request_at_a_time() -> Iterator[None]:
    """moto in process (`mock_aws`), answering one request at a time, as this server's event
    loop does. moto's models are not thread-safe (a Query walking a table while another
    thread adds a partition raises "dictionary changed size during iteration"), and Parley
    makes requests from several threads at once (a post's pairs, `parley.concurrency`)."""
    # Reproduction: test_moto_patches.py::test_one_request_at_a_time
    lock = threading.Lock()
    original = BotocoreStubber.process_request

    @functools.wraps(original)  # inspect.unwrap finds moto's own under a session's lock
    def process_request(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return original(self, request)

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]  # the one-request-at-a-time lock wraps moto's stubber
    try:
        yield
    finally:
        BotocoreStubber.process_request = original  # type: ignore[method-assign]  # restores moto's own method


# The changes to moto, each a function of its own, so that a test can make it alone (with its
# monkeypatch, undone after the test) and run the same scenario on stock moto beside it. Each
# names its reproduction in tests/functional/test_moto_patches.py: a test parametrized over
# `patched` and `stock` whose stock case is a strict xfail, so a moto upgrade that makes a
# change unnecessary fails that test and flags the change for removal.

Patch = Callable[[Any, str, Any], None]  # setattr, or a test's monkeypatch.setattr


def list_modules_once(patch: Patch = setattr) -> None:
    """moto finds the service of each request by listing its package directory, under a
    lock all request threads share; the list is computed once."""
    # Reproduction: test_moto_patches.py::test_list_modules_once
    modules = tuple(backends.list_of_moto_modules())
    patch(backends, "list_of_moto_modules", lambda: modules)


def find_handlers_once(patch: Patch = setattr) -> None:
    """moto lists a response class's methods (`inspect.getmembers`) on each request to find
    the action's handler; the list is computed once per class."""
    # Reproduction: test_moto_patches.py::test_find_handlers_once
    patch(
        responses,
        "method_names_from_class",
        functools.lru_cache(maxsize=None)(responses.method_names_from_class),
    )


def query_the_partition(patch: Patch = setattr) -> None:
    """A base table Query reads its partition's items that meet the sort key condition
    (and their neighbours) instead of the whole table sorted; an index Query skips the
    sort of the whole table."""
    # Reproductions: test_moto_patches.py::test_a_base_table_query_reads_its_matches,
    # ::test_an_index_query_sorts_only_its_matches and
    # ::test_an_index_query_walks_a_copy_of_the_partitions; answers:
    # ::test_queries_answer_as_stock_moto_does
    patch(Table, "all_items", _partition_items(Table.all_items))
    patch(Table, "query", _scoped_query(Table.query))


def sorted_partitions(patch: Patch = setattr) -> None:
    """The partitions of a table with a sort key keep their keys in order
    (`SortedPartition`), so that `query_the_partition` bisects them instead of casting and
    testing every sort key of the partition. Tables created afterwards only."""
    # Reproduction: test_moto_patches.py::test_a_query_bisects_a_sorted_partition; answers:
    # ::test_queries_on_sorted_partitions_answer_as_stock_moto_does
    patch(Table, "__init__", _sorted_partitions(Table.__init__))


def scans_resume_at_their_key(patch: Patch = setattr) -> None:
    """A base table Scan reads the items after its start key in key order instead of
    sorting the whole table and walking it from the first item, page after page."""
    # Reproduction: test_moto_patches.py::test_a_scan_page_resumes_at_its_key; answers:
    # ::test_scans_answer_as_stock_moto_does
    patch(Table, "all_items", _resumed_scans(Table.all_items))
    patch(Table, "scan", _scoped_scan(Table.scan))


def stream_records_as_json(patch: Patch = setattr) -> None:
    """GetRecords writes the records, kept in wire form, as JSON directly instead of
    through moto's model-driven serializer."""
    # Reproduction: test_moto_patches.py::test_stream_records_as_json; answers:
    # ::test_stream_records_are_the_bytes_stock_moto_would_have_parsed_to
    patch(DynamoDBStreamsHandler, "get_records", _get_records_as_json)


def item_answers_as_json(patch: Patch = setattr) -> None:
    """DynamoDB's item actions write their answers as JSON directly instead of walking the
    model member by member and attribute value by attribute value."""
    # Reproduction: test_moto_patches.py::test_item_answers_as_json; answers:
    # ::test_item_actions_answer_as_stock_moto_does
    patch(DynamoResult, "execute_result", _item_answers_as_json(DynamoResult.execute_result))


def transactions_save_their_items(patch: Patch = setattr) -> None:
    """TransactWriteItems saves the items it names, not deep copies of whole tables, and
    puts them back in the live table when cancelled; its stream records are written when
    it commits. Stock moto put a copy of the table in its place, stream and all, which
    stranded the stream readers already open."""
    # Reproductions: test_moto_patches.py::test_a_cancelled_transaction_keeps_the_stream_readers
    # and ::test_a_transaction_copies_no_table; with every change:
    # ::test_a_cancelled_transaction_keeps_the_stream_readers_with_every_change
    patch(dynamodb_models, "copy", _CopyAllButTables)
    patch(
        DynamoDBBackend,
        "transact_write_items",
        _restoring_transactions(DynamoDBBackend.transact_write_items),
    )
    patch(StreamShard, "add", _held_until_commit(StreamShard.add))


def stream_records_in_turn(patch: Patch = setattr) -> None:
    """Stream records are added one at a time, so that two request threads writing at once
    do not give two records one sequence number."""
    # Reproduction: test_moto_patches.py::test_stream_records_in_turn; answers:
    # ::test_concurrent_writes_get_distinct_stream_sequence_numbers
    patch(StreamShard, "add", _added_in_turn(StreamShard.add))


def queue_clock_from_time(patch: Patch = setattr) -> None:
    """SQS reads the clock with `time.time()` instead of building and subtracting two
    datetimes (8 µs a reading; a ReceiveMessage of ten reads it about thirty times)."""
    # Reproduction: test_moto_patches.py::test_queue_clock_from_time
    patch(sqs_models, "unix_time", _unix_time)
    patch(sqs_models, "unix_time_millis", _unix_time_millis)


def retention_from_one_attribute(patch: Patch = setattr) -> None:
    """ReceiveMessage checks each message's retention from the one attribute instead of
    building every attribute of the queue (three message counts among them) three times."""
    # Reproduction: test_moto_patches.py::test_retention_from_one_attribute; answers:
    # ::test_a_queue_checks_retention_as_stock_moto_does
    patch(SQSBackend, "is_message_valid_based_on_retention_period", _retained)


def visible_messages_one_clock_reading(patch: Patch = setattr) -> None:
    """A queue's visible messages are listed against one reading of the clock, not two per
    message."""
    # Reproduction: test_moto_patches.py::test_visible_messages_one_clock_reading; answers:
    # ::test_in_flight_and_delayed_messages_stay_hidden_as_in_stock_moto
    patch(Queue, "messages", property(_visible_messages))


def pending_groups_from_a_snapshot(patch: Patch = setattr) -> None:
    """A queue's pending message groups are read from a snapshot of its pending set, and a
    standard queue has none."""
    # Reproductions: test_moto_patches.py::test_pending_groups_from_a_snapshot and
    # ::test_a_standard_queue_has_no_pending_groups; answers:
    # ::test_a_fifo_queue_holds_back_a_group_in_flight_as_stock_moto_does
    patch(Queue, "pending_message_groups", property(_pending_message_groups))


def sends_without_counts(patch: Patch = setattr) -> None:
    """SendMessage (and each entry of SendMessageBatch) no longer counts the queue's
    messages while it builds the attributes it reads ContentBasedDeduplication from."""
    # Reproduction: test_moto_patches.py::test_sends_without_counts; answers:
    # ::test_a_fifo_queue_deduplicates_by_content_as_stock_moto_does
    patch(SQSBackend, "send_message", _sends_without_counts(SQSBackend.send_message))
    for count in (
        "approximate_number_of_messages",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
    ):
        patch(Queue, count, _uncounted_while_sending(getattr(Queue, count)))


PATCHES: tuple[Callable[[Patch], None], ...] = (
    list_modules_once,
    find_handlers_once,
    query_the_partition,
    sorted_partitions,
    scans_resume_at_their_key,
    stream_records_as_json,
    item_answers_as_json,
    transactions_save_their_items,
    stream_records_in_turn,
    queue_clock_from_time,
    retention_from_one_attribute,
    visible_messages_one_clock_reading,
    pending_groups_from_a_snapshot,
    sends_without_counts,
)


def install(patch: Patch = setattr) -> None:
    """Makes every change in PATCHES (`patch` is `setattr`, or a test's monkeypatch)."""
    for change in PATCHES:
        change(patch)


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Every change in PATCHES for moto in process (the benchmarks' `mock_aws`), undone on
    leaving. Before the tables are made: `sorted_partitions` changes tables made after it."""
    saved: list[tuple[Any, str, Any]] = []

    def patch(target: Any, name: str, value: Any) -> None:
        saved.append((target, name, getattr(target, name)))
        setattr(target, name, value)

    install(patch)
    try:
        yield
    finally:
        for target, name, value in reversed(saved):
            setattr(target, name, value)


class _WsgiRequest(MotoRequest):
    """A request as moto's Flask apps make it (`BackendRequest`): from a WSGI server."""

    from_wsgi_server = True


# The JSON-protocol services that the functions and pollers call on every message, by their
# X-Amz-Target prefix: each names its response class and the action after the dot.
_JSON_HANDLERS: dict[str, type[BaseResponse]] = {
    "DynamoDB_20120810": DynamoHandler,
    "DynamoDBStreams_20120810": DynamoDBStreamsHandler,
    "AmazonSQS": SQSResponse,
}


class JsonProtocolFront:
    """WSGI: a JSON-protocol request (a POST whose X-Amz-Target names DynamoDB, DynamoDB
    Streams or SQS) goes straight to its response class's `dispatch`, as moto's Flask view
    (`convert_to_flask_response`) calls it; everything else goes to moto's application.
    Finding the backend per request (under a lock), the Flask request context, URL routing
    and the CORS hooks, which only browsers use, were a quarter of moto's CPU per request
    in the sendMessage mix."""

    def __init__(self, application: Callable[..., Any]) -> None:
        self._application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "").partition(".")[0]
        handler = _JSON_HANDLERS.get(target)
        if handler is None or environ.get("REQUEST_METHOD") != "POST":
            return self._application(environ, start_response)
        request = _WsgiRequest(environ)
        recorder._record_request(request)
        try:
            result = handler.dispatch(request, request.raw_url, dict(request.headers))
        except ClientError as error:
            result = 400, {}, error.response["Error"]["Message"]
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        response = Response(response=content, status=status, headers=headers)
        return response(environ, start_response)


# Request threads: each holds a request to its end, an SQS long poll (up to 20 s) included;
# a few dozen pollers wait at once.
SERVER_THREADS = 64

# The actions answered on the event loop, by X-Amz-Target prefix (None: every action): each
# reads or writes a few items, one partition or one shard's batch, in a few milliseconds at
# most. The rest run on a request thread: an SQS long poll waits for up to 20 s, and a Scan
# or an index Query walks the whole table, which on the loop would hold up every request.
_ON_LOOP: dict[str, frozenset[str] | None] = {
    "DynamoDB_20120810": frozenset(
        {
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchGetItem",
            "BatchWriteItem",
            "TransactGetItems",
            "TransactWriteItems",
            "Query",  # a base table's, below; an index Query reads every item
        }
    ),
    "DynamoDBStreams_20120810": None,
    "AmazonSQS": frozenset(
        {
            "SendMessage",
            "SendMessageBatch",
            "DeleteMessage",
            "DeleteMessageBatch",
            "ChangeMessageVisibility",
            "ChangeMessageVisibilityBatch",
            "GetQueueUrl",
            "ReceiveMessage",  # one that does not wait, below
        }
    ),
}


def runs_on_loop(method: str, target: str, body: bytes) -> bool:
    """Whether a request is answered on the event loop rather than on a request thread."""
    service, _, action = target.partition(".")
    if method != "POST" or service not in _ON_LOOP:
        return False
    actions = _ON_LOOP[service]
    if actions is not None and action not in actions:
        return False
    if action == "Query":
        return b'"IndexName"' not in body
    if action == "ReceiveMessage":
        # Without WaitTimeSeconds, moto waits for the queue's ReceiveMessageWaitTimeSeconds.
        try:
            return json.loads(body).get("WaitTimeSeconds") == 0
        except (ValueError, AttributeError):
            return False
    return True


def wsgi_environ(request: web.BaseRequest, body: bytes, server_port: int) -> dict[str, Any]:
    """The WSGI environment of a request, as waitress builds it: PATH_INFO percent-decoded
    (latin-1), the raw REQUEST_URI beside it, the body read whole (de-chunked), and header
    names holding an underscore dropped (they would pass for their hyphenated twins)."""
    raw_path, _, query = request.raw_path.partition("?")
    path = urllib.parse.unquote_to_bytes(raw_path).decode("latin-1")
    if path.startswith("/"):
        path = "/" + path.lstrip("/")
    peer = request.transport.get_extra_info("peername") if request.transport else None
    host, port = (peer[0], str(peer[1])) if peer else ("127.0.0.1", "")
    environ: dict[str, Any] = {
        "REMOTE_ADDR": host,
        "REMOTE_HOST": host,
        "REMOTE_PORT": port,
        "REQUEST_METHOD": request.method,
        "SERVER_PORT": str(server_port),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_SOFTWARE": "moto",
        "SERVER_PROTOCOL": f"HTTP/{request.version.major}.{request.version.minor}",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "REQUEST_URI": request.raw_path,
        "QUERY_STRING": query,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in request.headers.items():
        if "_" in name:
            continue
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            continue
        key = key if key == "CONTENT_TYPE" else f"HTTP_{key}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def call_wsgi(
    application: Callable[..., Any], environ: dict[str, Any]
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Runs a WSGI application to the end of its answer: status, headers and body."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started[:] = [status, headers]

    chunks = application(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return int(started[0].split(" ", 1)[0]), started[1], body


class AsyncFront:
    """moto behind an aiohttp server: the item, stream and queue actions that every message
    sends (`runs_on_loop`) are answered on the event loop, through `JsonProtocolFront`; the
    rest on a pool of request threads, as a threaded WSGI server would. Under waitress each
    request crossed from its poll loop, which visits every open connection on each turn,
    to a request thread and back: with a hundred-odd kept-alive connections that was a
    quarter of moto's CPU."""

    def __init__(self, application: Callable[..., Any], port: int, threads: int) -> None:
        self._application = application
        self._port = port
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="request")

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.headers.get("Expect", "").lower() == "100-continue":
            # botocore waits up to a second for it before sending a large S3 body
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await request.content.read()
        environ = wsgi_environ(request, body, self._port)
        target = request.headers.get("X-Amz-Target", "")
        try:
            if runs_on_loop(request.method, target, body):
                status, headers, content = call_wsgi(self._application, environ)
            else:
                status, headers, content = await asyncio.get_running_loop().run_in_executor(
                    self._threads, call_wsgi, self._application, environ
                )
        except Exception:
            log.exception("moto failed on %s %s", request.method, request.path)
            return web.Response(status=500, text="Internal Server Error")
        response = web.Response(status=status, body=content)
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                response.headers.add(name, value)
        if request.method == "HEAD":  # the size of what a GET would answer, with no body
            length = next((v for n, v in headers if n.lower() == "content-length"), None)
            if length is not None:
                response.headers["Content-Length"] = length
        return response


def serve(host: str, port: int) -> None:
    """moto's application (the one `moto_server` runs) behind `AsyncFront` and the
    JSON-protocol front, until the process is stopped."""
    os.environ.setdefault("MOTO_PORT", str(port))  # moto builds queue URLs and the like on it
    application = DomainDispatcherApplication(create_backend_app)
    application.debug = True  # type: ignore[attr-defined]  # as moto_server sets it
    front = AsyncFront(JsonProtocolFront(application), port, SERVER_THREADS)

    async def run() -> None:
        # Bodies pass as they came (a gzip body is moto's to decode, as under waitress).
        server = web.Server(front, access_log=None, auto_decompress=False)
        await asyncio.get_running_loop().create_server(server, host, port, backlog=1024)
        await asyncio.Event().wait()

    asyncio.run(run())


def _old_objects_stay_frozen() -> None:
    """After each full collection, moves every surviving object to the permanent
    generation (`gc.freeze`), so that the next full collection walks only what was
    allocated since (see the module's docstring). Objects that die by reference count are
    still freed; only a reference cycle among frozen objects is never reclaimed, and
    moto's stored items and records form none."""

    def freeze_survivors(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()

    gc.callbacks.append(freeze_survivors)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="moto_main", description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    arguments = parser.parse_args(argv)
    install()
    _old_objects_stay_frozen()
    logging.basicConfig(level=logging.WARNING)
    serve(arguments.host, arguments.port)


if __name__ == "__main__":
    main(sys.argv[1:])
