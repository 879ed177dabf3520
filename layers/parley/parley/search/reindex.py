"""Rebuilds the search index from the table: after a lost domain, or to repair drift.

    python -m parley.search.reindex --table parley-dev-AppTable-XYZ \
        --endpoint search-parley-dev-abc.us-east-1.es.amazonaws.com

Safe while messages keep arriving: each document is written at the item's current
`version` with external versioning, so whichever of the live indexer and this job writes
a newer version wins, and the other's write is a harmless 409. Deleted messages are not in
the table; their tombstones (or nothing, on a new domain) stay as they are.

Locally: `--endpoint http://127.0.0.1:9200 --aws-endpoint-url http://127.0.0.1:3002
--table parley-local-AppTable` (or `make reindex ARGS=...`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING

from parley.search.changes import IndexChange
from parley.search.opensearch import MessageIndex, connect
from parley.store.items import MessageItem

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
        text=item.text,
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m parley.search.reindex",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--table", required=True, help="the application table's name")
    parser.add_argument("--endpoint", required=True, help="the OpenSearch domain endpoint")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--aws-endpoint-url", help="DynamoDB endpoint (the local stack's moto)")
    arguments = parser.parse_args(argv)

    from parley.store import bind
    from parley.store.message_scan import scan_messages

    bind(arguments.table, arguments.region, host=arguments.aws_endpoint_url)
    index = MessageIndex(connect(arguments.endpoint, arguments.region, timeout_s=30))
    index.ensure()
    done, failed = reindex(scan_messages(), index)
    print(f"reindexed {done} messages, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
