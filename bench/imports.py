"""Slack import: a generated export of `messages` messages through the whole local stack,
against BatchWriteItem of the same items straight into the same moto.

- The import: `make import`'s own steps (local/importer.py): create the import, POST the zip
  to S3 with the presigned form, start it, follow its status until `done`. Between the start
  and `done` sit the HTTP API function, the import queue and the import function's workers
  (the template's concurrency, capped by the machine's), each chunk a day file read by
  ranged GETs. The functions the table's stream drives (search, events, notifications) are
  off: in AWS they run beside the import, not in its time; here they would share its two
  cores. messagesPerS counts messages and replies, from the start to `done`.
- The baseline: every item the import wrote (the table after it, less the table before),
  written again with BatchWriteItem, 25 a request, into a table of the same keys and indexes
  in the same moto. baselineMessagesPerS is the import's messages over that time, so the
  ratio is the whole import (reading, parsing, mapping, idempotence checks) against the
  bare writes of its result.
- peakRssMb: the import function's workers' high-water mark of resident memory (VmHWM), the
  largest of them: what Lambda reports as "Max Memory Used".

The export: `tests.slack_exports.busy_export` with threads (one message in ten a reply, one
in twenty with reactions), 20 people, 20 channels, a day file per channel and day.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from local import importer
from local.stack import Stack, StackConfig
from tests.slack_exports import busy_export

CHANNELS = 20
TABLE = "parley-local-AppTable"
BASELINE_TABLE = "parley-bench-import-baseline"
# In AWS these run beside the import, each in its own sandboxes (module docstring).
STREAM_FUNCTIONS = frozenset(
    {
        "StreamForwarderFunction",
        "EventsDeliveryFunction",
        "NotifierFunction",
        "SearchIndexerFunction",
    }
)
IMPORT_CODE = "import_worker"


def _keys(item: dict[str, Any]) -> tuple[str, str]:
    return item["PK"]["S"], item["SK"]["S"]


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    return items


def _same_table(dynamodb: Any, source: str, name: str) -> None:
    """A table with the source's keys and global secondary indexes, on demand."""
    table = dynamodb.describe_table(TableName=source)["Table"]
    indexes = [
        {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
        for i in table.get("GlobalSecondaryIndexes", [])
    ]
    dynamodb.create_table(
        TableName=name,
        KeySchema=table["KeySchema"],
        AttributeDefinitions=table["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
        **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
    )


def _batch_write(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> float:
    """Seconds to write `items`, 25 a request, resending what comes back unprocessed."""
    started = time.perf_counter()
    for start in range(0, len(items), 25):
        requests = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while requests:
            requests = dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems")
    return time.perf_counter() - started


def _import_workers_peak_mb() -> float | None:
    """The largest VmHWM among the running import function's workers (local.workers runs
    each as `python -I -u worker.py FD CODE_DIR HANDLER LAYERS...`)."""
    peaks = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if len(argv) < 6 or not any(a.endswith(IMPORT_CODE.encode()) for a in argv[4:6]):
                continue
            status = (proc / "status").read_text()
        except OSError:
            continue  # gone, or not ours
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return round(max(peaks), 1) if peaks else None


def run(messages: int = 100_000, days: int = 50, timeout_s: float = 1800) -> dict[str, Any]:
    per_day = max(1, messages // (CHANNELS * days))
    export = busy_export(CHANNELS, days, per_day, threads=True)
    written = sum(len(day) for day in export.days.values())
    with tempfile.TemporaryDirectory(prefix="parley-bench-import-") as state:
        path = Path(state) / "slack-export.zip"
        data = export.build()
        path.write_bytes(data)
        config = StackConfig(
            state_dir=Path(state) / "stack",
            http_port=0,
            ws_port=0,
            aws_port=0,
            poll_interval_s=0.05,
            disabled_event_sources=STREAM_FUNCTIONS,
        )
        with Stack(config) as stack:
            assert stack.aws is not None
            dynamodb = stack.aws("dynamodb")
            token = stack.login("bench-importer").id_token
            api = importer.ImportApi(stack.http_url, token, timeout_s=60)
            workspace = api._call("POST", "/workspaces", {"name": "Import bench"})["workspace"]
            before = {_keys(item) for item in _scan(dynamodb, TABLE)}

            created = api.create_import(workspace["id"], path.name, path.stat().st_size)
            upload_started = time.perf_counter()
            importer.upload(created["upload"], path, importer.NoProgress())
            upload_s = time.perf_counter() - upload_started
            import_id = str(created["import"]["id"])
            started = time.perf_counter()
            api.start_import(import_id)
            record = importer.follow(
                api, import_id, importer.NoProgress(), interval=0.2, timeout=timeout_s
            )
            import_s = time.perf_counter() - started
            if record["status"] != "done":
                raise RuntimeError(f"the import ended {record['status']}: {record.get('errors')}")
            peak_mb = _import_workers_peak_mb()

            items = [item for item in _scan(dynamodb, TABLE) if _keys(item) not in before]
            _same_table(dynamodb, TABLE, BASELINE_TABLE)
            baseline_s = _batch_write(dynamodb, BASELINE_TABLE, items)

    counts = record["counts"]
    imported = int(counts["messages"]) + int(counts["replies"])
    if imported != written:
        raise RuntimeError(f"{written} messages in the export, {imported} imported: {counts}")
    rate, baseline = imported / import_s, imported / baseline_s
    return {
        "messages": imported,
        "messagesPerS": round(rate, 1),
        "baselineMessagesPerS": round(baseline, 1),
        "ratio": round(rate / baseline, 3),
        "peakRssMb": peak_mb,
        "counts": counts,
        "items": len(items),
        "itemsPerMessage": round(len(items) / imported, 3),
        "zipMb": round(len(data) / 1_048_576, 2),
        "importS": round(import_s, 1),
        "uploadS": round(upload_s, 2),
        "baselineS": round(baseline_s, 1),
    }


def table(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return f"import: skipped ({result['skipped']})"
    rows = [
        "| messages | zip MB | import s | messages/s | items | BatchWriteItem s "
        "| baseline messages/s | ratio | peak RSS MB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {result['messages']} | {result['zipMb']} | {result['importS']} | "
        f"{result['messagesPerS']} | {result['items']} | {result['baselineS']} | "
        f"{result['baselineMessagesPerS']} | {result['ratio']} | {result['peakRssMb']} |",
    ]
    return "\n".join(rows)
