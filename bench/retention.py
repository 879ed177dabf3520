"""The retention sweep's deletions a second: functions/retention_sweep's handler given the
daily schedule's event, then each task it queues (plan, workspace, channel) taken off the
retention queue and handed to it as Lambda's poller does, until the queue is empty; against
BatchWriteItem deleting the same keys in the same run.

Both on moto in process (bench/fanout.py's tables, with local/moto_main's changes to moto, as
the local stack has them), so the rates compare request patterns and the sweep's own work,
not AWS latencies. The function's requests go through botocore, as the fan-out's do.

- The corpus: one workspace keeping `days` days, `channels` channels of `messages` messages
  each past the cutoff and `kept` newer ones. One message in ten is a thread root with two
  replies (the replies count among the messages), one in fifty is pinned, one in twenty
  shares a file of its own (file, reference and share items and a bucket object). Each
  channel's newest expired root has a reply past the cutoff too (read from the thread
  index, deleted with its root), and one file is shared by an expired message and a kept
  one (its share goes, the file stays).
- perS: table items the sweep deleted over the seconds from the schedule's event to the
  empty queue (every invocation, and the queue's receives and deletes between them). One
  task at a time (BatchSize 1; AWS runs up to ten at once); moto answers one request at a
  time anyway.
- baselinePerS: the same items written back, then deleted with BatchWriteItem, 25 keys a
  request, unprocessed keys resent; ratio = perS / baselinePerS, the sweep's reads (pages,
  pins, thread index, file shares, file objects), its DeleteObjects and its queue traffic
  against the bare deletes.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from datetime import UTC, datetime
from typing import Any

from bench import environ, fanout
from local.handlers import Context, load_function
from local.stack import PROJECT_ROOT

WORKSPACE = fanout.WORKSPACE
AUTHOR = "U0BENCH00001"
BUCKET = "bench-retention-files"
QUEUE = "bench-retention-queue"
REGION = "us-east-1"
TIMEOUT_MS = 300_000  # the function's Timeout (template.yaml)
DAY_S = 86_400
RECORD = {
    "receiptHandle": "bench",
    "attributes": {"ApproximateReceiveCount": "1"},
    "messageAttributes": {},
    "eventSource": "aws:sqs",
    "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:{QUEUE}",
    "awsRegion": REGION,
}


class Invocation(Context):
    """Lambda's context for one invocation: the time left of the function's timeout."""

    def __init__(self) -> None:
        super().__init__("parley-bench-retention")
        self.deadline = time.monotonic() + TIMEOUT_MS / 1000

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]  # an instance's clock, not the static stand-in
        return int((self.deadline - time.monotonic()) * 1000)


def _ts(at: float, n: int = 0) -> str:
    from parley.ids import ts_from_micros

    return ts_from_micros(int(at * 1_000_000) + n)


def corpus(
    run_at: float, channels: int, messages: int, kept: int, days: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(the items the sweep must delete, the items it must keep, the bucket keys it must
    delete), serialized for moto's backend."""
    from parley.adapters.dynamodb import channels as channel_items
    from parley.adapters.dynamodb.files import file_key, ref_key, share_key
    from parley.adapters.dynamodb.items import (
        FileItem,
        FileRefItem,
        FileShareItem,
        MessageItem,
        PinItem,
        RetentionItem,
    )
    from parley.adapters.dynamodb.messages import message_key
    from parley.adapters.dynamodb.pins import pin_key
    from parley.adapters.dynamodb.retention import INDEX_PARTITION, policy_key
    from parley.domain.records import ChannelRecord

    now = datetime.fromtimestamp(run_at, UTC).isoformat()
    cutoff = run_at - days * DAY_S
    doomed: list[Any] = []
    keep: list[Any] = [
        RetentionItem(
            *policy_key(WORKSPACE, None),
            GSI1PK=INDEX_PARTITION,
            GSI1SK=f"{WORKSPACE}#",
            workspaceId=WORKSPACE,
            days=days,
            setBy=AUTHOR,
            setAt=now,
        )
    ]
    objects: list[str] = []

    def message(cid: str, ts: str, **fields: Any) -> MessageItem:
        return MessageItem(
            *message_key(cid, ts),
            channelId=cid,
            workspaceId=WORKSPACE,
            ts=ts,
            userId=AUTHOR,
            text=f"message {ts} of the retention benchmark",
            createdAt=now,
            **fields,
        )

    def file(fid: str, cid: str) -> list[Any]:
        key = f"{WORKSPACE}/{fid}/notes.txt"
        return [
            FileItem(
                *file_key(WORKSPACE, fid),
                fileId=fid,
                workspaceId=WORKSPACE,
                name="notes.txt",
                size=12,
                contentType="text/plain",
                status="ready",
                uploadedBy=AUTHOR,
                createdAt=now,
                objectKey=key,
                uploadExpiresAt=int(run_at),
                channelId=cid,
            ),
            FileRefItem(*ref_key(fid), workspaceId=WORKSPACE),
        ]

    for c in range(channels):
        cid = f"CRET{c:07d}"
        record = ChannelRecord(
            channelId=cid,
            workspaceId=WORKSPACE,
            name=f"retention-{c}",
            type="public",
            createdBy=AUTHOR,
            createdAt=now,
            memberCount=1,
        )
        claim, member = channel_items.channel_items_for_creation(record, AUTHOR, now)
        keep += [channel_items.channel_item(record), claim, member]
        # Expired messages a second apart before the cutoff, oldest first, in blocks of
        # ten: a thread root, its two replies, seven others.
        first = cutoff - messages - 60
        for n in range(0, messages - 2, 10):
            ts = _ts(first + n)
            replies = [_ts(first + n + 1), _ts(first + n + 2)]
            straddles = n + 10 >= messages - 2  # the newest root: a reply past the cutoff
            if straddles:
                replies.append(_ts(cutoff + 30))
            doomed.append(message(cid, ts, replyCount=len(replies), latestReplyTs=replies[-1]))
            for reply in replies:
                item = message(cid, reply, threadTs=ts)
                item.GSI1PK, item.GSI1SK = f"THREAD#{cid}#{ts}", reply
                doomed.append(item)
            for m in range(n + 3, min(n + 10, messages)):
                ts = _ts(first + m)
                fields: dict[str, Any] = {}
                if m % 20 == 5:
                    fid = f"FRET{c:04d}{m:06d}"
                    fields["fileIds"] = [fid]
                    share = FileShareItem(*share_key(fid, cid, ts), channelId=cid, ts=ts)
                    doomed += [*file(fid, cid), share]
                    objects.append(f"{WORKSPACE}/{fid}/notes.txt")
                elif c == 0 and m == 4:  # shared by a kept message too: the file stays
                    fid, kept_ts = "FRETKEPT0001", _ts(cutoff + 60)
                    fields["fileIds"] = [fid]
                    doomed.append(FileShareItem(*share_key(fid, cid, ts), channelId=cid, ts=ts))
                    keep += [
                        *file(fid, cid),
                        FileShareItem(*share_key(fid, cid, kept_ts), channelId=cid, ts=kept_ts),
                        message(cid, kept_ts, fileIds=[fid]),
                    ]
                if m % 50 == 7:
                    doomed.append(PinItem(*pin_key(cid, ts), ts=ts, pinnedBy=AUTHOR, pinnedAt=now))
                doomed.append(message(cid, ts, **fields))
        keep += [message(cid, _ts(cutoff + 100 + k)) for k in range(kept)]
    return [i.serialize() for i in doomed], [i.serialize() for i in keep], objects


def _put(backend: Any, items: list[dict[str, Any]]) -> None:
    for item in items:
        backend.put_item(fanout.APP_TABLE, item)


def _sweep(run_at: float, sqs: Any, queue_url: str) -> tuple[float, int, int]:
    """The daily run: (seconds, invocations, tasks that failed)."""
    handler = load_function("retention_sweep").lambda_handler
    event = json.loads((PROJECT_ROOT / "events" / "retention_sweep.json").read_text())
    event["time"] = datetime.fromtimestamp(run_at, UTC).isoformat().replace("+00:00", "Z")
    invocations = failed = 0
    started = time.perf_counter()
    handler(event, Invocation())
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1)
        if not got.get("Messages"):
            break
        (task,) = got["Messages"]
        record = {**RECORD, "messageId": task["MessageId"], "body": task["Body"]}
        reply = handler({"Records": [record]}, Invocation())
        invocations += 1
        failed += len(reply["batchItemFailures"])
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=task["ReceiptHandle"])
    return time.perf_counter() - started, invocations, failed


def _batch_delete(dynamodb: Any, keys: list[dict[str, Any]]) -> float:
    """Seconds to delete `keys`, 25 a request, resending what comes back unprocessed."""
    started = time.perf_counter()
    for start in range(0, len(keys), 25):
        chunk = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
        requests: dict[str, Any] = {fanout.APP_TABLE: chunk}
        while requests:
            requests = dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems")
    return time.perf_counter() - started


def _keys(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"PK": item["PK"], "SK": item["SK"]} for item in items]


def _stored(backend: Any) -> set[tuple[str, str]]:
    """The table's keys, read from moto's backend (checking costs no requests)."""
    stored = backend.get_table(fanout.APP_TABLE)
    return {(item.hash_key.value, item.range_key.value) for item in stored.all_items()}


def run(channels: int = 20, messages: int = 1000, kept: int = 20, days: int = 30) -> dict[str, Any]:
    import boto3

    from parley import wiring
    from parley.config import settings

    run_at = float(int(time.time()))  # EventBridge's times are whole seconds
    doomed, keep, objects = corpus(run_at, channels, messages, kept, days)
    with fanout.moto_tables() as dynamodb, _environment() as queue_url:
        sqs, s3 = boto3.client("sqs"), boto3.client("s3")
        backend = fanout._seeding_backend()
        _put(backend, [*doomed, *keep])
        for key in [*objects, f"{WORKSPACE}/FRETKEPT0001/notes.txt"]:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"retained? no")
        with redirect_stdout(io.StringIO()):  # the function's metrics (EMF) and logs
            sweep_s, invocations, failed = _sweep(run_at, sqs, queue_url)
        after = _stored(backend)
        objects_left = s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)
        _put(backend, doomed)
        baseline_s = _batch_delete(dynamodb, _keys(doomed))
        baseline_after = _stored(backend)
        settings.cache_clear()
        wiring.configured.cache_clear()
        wiring.file_bucket.cache_clear()
    survivors = {(item["PK"]["S"], item["SK"]["S"]) for item in keep}
    if failed or after != survivors or objects_left != 1 or baseline_after != survivors:
        raise RuntimeError(
            f"the sweep left {len(after - survivors)} of {len(doomed)} items and "
            f"{objects_left - 1} objects, deleted {len(survivors - after)} of {len(keep)} it must "
            f"keep, {failed} tasks failed; the baseline left {len(baseline_after - survivors)}"
        )
    rate, baseline = len(doomed) / sweep_s, len(doomed) / baseline_s
    messages_deleted = sum(1 for item in doomed if item["SK"]["S"].startswith("MSG#"))
    return {
        "deleted": len(doomed),
        "perS": round(rate, 1),
        "baselinePerS": round(baseline, 1),
        "ratio": round(rate / baseline, 3),
        "messages": messages_deleted,
        "objects": len(objects),
        "channels": channels,
        "tasks": invocations,
        "sweepS": round(sweep_s, 2),
        "baselineS": round(baseline_s, 2),
    }


@contextmanager
def _environment() -> Iterator[str]:
    """The function's bucket and queue in moto, named in its environment; the queue's URL."""
    import boto3

    from parley import wiring
    from parley.config import settings

    boto3.client("s3").create_bucket(Bucket=BUCKET)
    url = boto3.client("sqs").create_queue(QueueName=QUEUE)["QueueUrl"]
    environment = {"FILES_BUCKET": BUCKET, "RETENTION_QUEUE_URL": url}
    with environ(environment):
        settings.cache_clear()
        wiring.configured.cache_clear()
        wiring.file_bucket.cache_clear()
        yield url


def table(result: dict[str, Any]) -> str:
    rows = [
        "| items deleted | messages | objects | tasks | sweep s | deleted/s "
        "| BatchWriteItem s | baseline deleted/s | ratio |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {result['deleted']:,} | {result['messages']:,} | {result['objects']:,} | "
        f"{result['tasks']} | {result['sweepS']} | {result['perS']:,} | "
        f"{result['baselineS']} | {result['baselinePerS']:,} | {result['ratio']} |",
    ]
    return "\n".join(rows)
