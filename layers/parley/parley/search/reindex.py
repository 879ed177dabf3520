"""Rebuilds the search index from the table into a new index, then switches to it: after a
mapping change, a lost domain, or to repair drift.

    python -m parley.search.reindex --stack parley-dev
    python -m parley.search.reindex --table parley-dev-AppTable-XYZ \
        --endpoint search-parley-dev-abc.us-east-1.es.amazonaws.com

`--stack` reads the table and the domain from the stack's Outputs (`TableName`,
`SearchEndpoint`).

1. Creates `messages-v<N+1>` (the index template gives it the current mapping) and adds it
   to the write alias: from then on the indexer writes every change to both indices.
2. Copies every message of the table into it (consistent reads, external versioning).
3. Switches both aliases, read and write, to it in one atomic request.
4. After a settle time (for indexer batches that looked the aliases up just before the
   switch), deletes the old index.

Safe while messages keep arriving: a change written to the table before the copy reads its
item is in the copy; one written after reaches the new index through the write alias; each
document carries the item's `version` with external versioning, so whichever write is
newer wins and the other is a harmless 409. Deleted messages are not in the table, so the
new index simply lacks them. If any copy fails, the new index is dropped and the live one
is left as it was (exit status 1). Run one reindex at a time.

Locally: `--endpoint http://127.0.0.1:9200 --aws-endpoint-url http://127.0.0.1:3002
--table parley-local-AppTable` (or `make reindex ARGS=...`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from parley.adapters.cloudformation import operator_parser
from parley.adapters.dynamodb.items import MessageItem
from parley.adapters.opensearch import MessageIndex, WriteOutcome, connect
from parley.search import mapping
from parley.search.changes import IndexChange, indexed_text

if TYPE_CHECKING:  # the pipeline module brings Powertools' metrics: not for a CLI's import
    from parley.search.pipeline import ChangeIndex

BULK_SIZE = 500


def change_of(item: MessageItem) -> IndexChange:
    return IndexChange(
        workspaceId=item.workspaceId,
        channelId=item.channelId,
        ts=item.ts,
        version=int(item.version or 1),
        userId=item.userId,
        text=indexed_text(item.text, item.blocks),
        threadTs=item.threadTs,
        hasFile=bool(item.fileIds),
    )


def _batches(items: Iterable[MessageItem], size: int) -> Iterator[list[MessageItem]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def reindex(
    items: Iterable[MessageItem], index: ChangeIndex, bulk_size: int = BULK_SIZE
) -> tuple[int, int]:
    """Writes every item; (written or already newer, failed)."""
    done = failed = 0
    for batch in _batches(items, bulk_size):
        outcome = index.write([change_of(item) for item in batch])
        done += len(outcome.done)
        failed += len(outcome.failed)
    return done, failed


@dataclass(frozen=True)
class Rebuilt:
    index: str  # the new index; the live one again when the copy failed
    copied: int
    failed: int
    dropped: tuple[str, ...]  # the indices deleted after the switch


@dataclass(frozen=True)
class _Into:
    """The copy's target: one named index, not the write alias."""

    index: MessageIndex
    name: str

    def write(self, changes: Sequence[IndexChange]) -> WriteOutcome:
        return self.index.write(changes, index=self.name)


def rebuild(
    items: Iterable[MessageItem],
    index: MessageIndex,
    *,
    settle_s: float = 10.0,
    bulk_size: int = BULK_SIZE,
) -> Rebuilt:
    """Builds the next index generation from `items` and switches the aliases to it."""
    client = index.client
    index.ensure()
    existing = client.indices.get(index=f"{mapping.INDEX_PREFIX}*")
    generations = [g for g in map(mapping.generation_of, existing) if g is not None]
    new = mapping.index_name(max(generations, default=0) + 1)
    client.indices.create(index=new)
    client.indices.update_aliases(
        body={"actions": [{"add": {"index": new, "alias": mapping.WRITE_ALIAS}}]}
    )
    # `items` is read lazily, so the Scan starts only now that the indexer writes to the
    # new index too: every change is either read by the copy or written by the indexer.
    copied, failed = reindex(items, _Into(index, new), bulk_size)
    if failed:  # leave the live index as it was
        client.indices.delete(index=new)
        return Rebuilt(index.indices_behind(mapping.READ_ALIAS)[0], copied, failed, ())
    old = sorted(
        set(index.indices_behind(mapping.READ_ALIAS) + index.indices_behind(mapping.WRITE_ALIAS))
        - {new}
    )
    switch: list[dict[str, Any]] = [
        {"remove": {"index": name, "alias": alias}}
        for name in old
        for alias in (mapping.READ_ALIAS, mapping.WRITE_ALIAS)
        if name in index.indices_behind(alias)
    ]
    switch += [
        {"add": {"index": new, "alias": a}} for a in (mapping.READ_ALIAS, mapping.WRITE_ALIAS)
    ]
    client.indices.update_aliases(body={"actions": switch})
    time.sleep(settle_s)
    for name in old:
        client.indices.delete(index=name, ignore_unavailable=True)
    return Rebuilt(new, copied, failed, tuple(old))


def targets(arguments: argparse.Namespace) -> tuple[str, str]:
    """The table's name and the domain's endpoint: given, or read from the stack's Outputs."""
    if arguments.stack:
        from parley.adapters.cloudformation import StackOutputsError, required, stack_outputs

        try:
            outputs = stack_outputs(arguments.stack, arguments.region, arguments.aws_endpoint_url)
            table, endpoint = required(outputs, arguments.stack, "TableName", "SearchEndpoint")
        except StackOutputsError as error:
            raise ValueError(str(error)) from None
        return arguments.table or table, arguments.endpoint or endpoint
    if not (arguments.table and arguments.endpoint):
        raise ValueError("name the stack (--stack) or both the table and the endpoint")
    return arguments.table, arguments.endpoint


def main(argv: Sequence[str] | None = None) -> int:
    parser = operator_parser(
        "python -m parley.search.reindex",
        __doc__,
        "the deployed stack whose Outputs name table and domain",
    )
    parser.add_argument("--table", help="the application table's name")
    parser.add_argument("--endpoint", help="the OpenSearch domain endpoint")
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=10.0,
        help="wait after the switch before deleting the old index (in-flight indexer batches)",
    )
    arguments = parser.parse_args(argv)
    try:
        table, endpoint = targets(arguments)
    except ValueError as error:
        parser.error(str(error))

    from parley.adapters.dynamodb import bind
    from parley.adapters.dynamodb.message_scan import scan_messages

    bind(table, arguments.region, host=arguments.aws_endpoint_url)
    index = MessageIndex(connect(endpoint, arguments.region, timeout_s=30))
    result = rebuild(scan_messages(), index, settle_s=arguments.settle_seconds)
    if result.failed:
        print(
            f"{result.failed} messages failed to copy: kept {result.index}, dropped the new index",
            file=sys.stderr,
        )
        return 1
    print(
        f"reindexed {result.copied} messages into {result.index};"
        f" removed {', '.join(result.dropped) or 'nothing'}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
