"""Retention (API.md, "Team features"): how long a workspace, or one of its channels, keeps
its messages, and the daily sweep that deletes what is past it from the table, the bucket
and (through the stream's REMOVE records) the search index.

Policies. A workspace admin sets the workspace's (`days` 1-3650, null: keep forever) and a
channel's, which overrides it (null there keeps that channel forever, whatever the
workspace says); only an admin who may see the channel sets a channel's (a private channel
the admin is not in is 404, as everywhere).

The sweep, on the retention queue (each task a queue message, each idempotent):
- the daily schedule's event queues a `plan` carrying the run's time (the schedule's own
  `time`, so that a retried invocation plans the same run);
- `plan` reads every policy from the sparse index (no scan) and queues a `workspace` task
  for each workspace that has one;
- `workspace` queues a `channel` task for each channel that keeps less than forever: every
  channel of the workspace when it has a policy, else those with their own; each carries
  its cutoff, the ts `days` before the run's time, fixed for the whole run;
- `channel` reads the channel's partition oldest first up to the cutoff, a page at a time,
  and deletes each page's messages with their threads' replies (newer ones too, read from
  the thread index when the thread's latest reply is past the cutoff: a thread goes with
  its root), their pins, their file shares, and the files no message outside the
  page still shares (the object with DeleteObjects, then the items); messages last, so a
  step that fails is found again by its retry. Before its time runs out it queues itself
  again with its cursor (the last ts it deleted). A re-run finds nothing and writes
  nothing.

What is deleted is not announced: no WebSocket event goes out (history reloads show it),
and apps do not hear it as `message_deleted` (parley.domain.app_events leaves out the
removal of a message past the age its channel keeps: a person's deletion of a message that
old, before the sweep reached it, is taken for the sweep's, as it was due within a day).
docs/decisions.md says why.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from parley.domain import access
from parley.domain.caller import Caller
from parley.domain.ports.retention import store as retention_store
from parley.domain.records import ExpiredMessage, RetentionDeletion, RetentionRecord
from parley.errors import Forbidden
from parley.ids import iso_now, ts_from_micros
from parley.observability import MetricUnit, logger, metrics

DAY_SECONDS = 86_400
MAX_DAYS = 3650
PAGE = 500  # messages read (and then deleted, with their threads) per step (bench/retention.py)
# A channel task queues itself again when less than this is left of its invocation's time.
TIME_MARGIN_MS = 10_000


class TaskQueue(Protocol):
    """The retention queue (parley.adapters.sqs.SqsQueue): (id, body) pairs; ids refused."""

    def send(self, bodies: Sequence[tuple[str, str]]) -> set[str]: ...


class ObjectBucket(Protocol):
    """The files bucket (parley.adapters.s3.S3FileBucket)."""

    def remove_many(self, keys: list[str]) -> list[str]: ...


# ------------------------------------------------------------------ the policies


def set_workspace_policy(caller: Caller, workspace_id: str, days: int | None) -> None:
    """The workspace's retention (admins only; 403 for members, 404 for outsiders)."""
    access.workspace_admin(workspace_id, caller.user_id)
    if days is None:
        retention_store.remove_policy(workspace_id, None)
    else:
        retention_store.put_policy(
            RetentionRecord(workspace_id, None, days, setBy=caller.user_id, setAt=iso_now())
        )
    metrics.add_metric("RetentionPolicySet", MetricUnit.Count, 1)


def set_channel_policy(caller: Caller, channel_id: str, days: int | None) -> None:
    """The channel's retention, overriding the workspace's (a workspace admin who sees the
    channel; 403 for other members who see it, 404 for everyone else)."""
    channel, _ = access.visible_channel(channel_id, caller.user_id)
    if not access.is_admin(channel.workspaceId, caller.user_id):
        raise Forbidden("only workspace admins may set a channel's retention")
    retention_store.put_policy(
        RetentionRecord(
            channel.workspaceId, channel_id, days, setBy=caller.user_id, setAt=iso_now()
        )
    )
    metrics.add_metric("RetentionPolicySet", MetricUnit.Count, 1)


def kept_days(workspace: RetentionRecord | None, channel: RetentionRecord | None) -> int | None:
    """How long a channel keeps its messages: its own policy, else its workspace's; None
    is forever."""
    if channel is not None:
        return channel.days
    return workspace.days if workspace is not None else None


# ------------------------------------------------------------------ the sweep's tasks


@dataclass(frozen=True)
class Sweep:
    """What one channel task has done, for the logs and the benchmark."""

    deleted: int = 0  # table items
    messages: int = 0
    objects: int = 0
    requeued: bool = False


def _task(kind: str, **fields: Any) -> str:
    return json.dumps({"kind": kind, **fields}, separators=(",", ":"), sort_keys=True)


def _send(queue: TaskQueue, bodies: list[tuple[str, str]]) -> None:
    for start in range(0, len(bodies), 500):
        chunk = bodies[start : start + 500]
        refused = queue.send(chunk)
        if refused:
            raise RuntimeError(f"the retention queue refused {len(refused)} of {len(chunk)} tasks")


def run_time(event: dict[str, Any]) -> float:
    """The run's time: the scheduled event's `time`, else now."""
    stamp = event.get("time")
    if isinstance(stamp, str):
        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time()


def start(event: dict[str, Any], queue: TaskQueue) -> None:
    """The daily schedule's event: queues the run's plan."""
    run_at = round(run_time(event), 6)
    _send(queue, [(f"plan-{run_at}", _task("plan", runAt=run_at))])
    logger.info("retention sweep started", extra={"runAt": run_at})


def cutoff_ts(run_at: float, days: int) -> str:
    """The newest ts a channel that keeps `days` days loses in the run at `run_at`."""
    return ts_from_micros(int((run_at - days * DAY_SECONDS) * 1_000_000))


def plan(run_at: float, queue: TaskQueue) -> int:
    """A workspace task for each workspace with any policy; how many were queued."""
    workspaces = sorted({policy.workspaceId for policy in retention_store.policies()})
    _send(queue, [(w, _task("workspace", workspaceId=w, runAt=run_at)) for w in workspaces])
    logger.info("retention planned", extra={"workspaces": len(workspaces)})
    return len(workspaces)


def plan_workspace(workspace_id: str, run_at: float, queue: TaskQueue) -> int:
    """A channel task for each of the workspace's channels that keeps less than forever."""
    found = retention_store.policies(workspace_id)
    workspace = next((p for p in found if p.channelId is None), None)
    own = {p.channelId: p for p in found if p.channelId is not None}
    channel_ids = retention_store.workspace_channels(workspace_id) if workspace else []
    channel_ids = list(dict.fromkeys([*channel_ids, *own]))
    tasks = []
    for channel_id in channel_ids:
        days = kept_days(workspace, own.get(channel_id))
        if days is None:
            continue
        cutoff = cutoff_ts(run_at, days)
        body = _task("channel", workspaceId=workspace_id, channelId=channel_id, cutoff=cutoff)
        tasks.append((channel_id, body))
    _send(queue, tasks)
    return len(tasks)


def sweep_channel(
    workspace_id: str,
    channel_id: str,
    cutoff: str,
    cursor: str | None,
    *,
    bucket: ObjectBucket,
    queue: TaskQueue,
    remaining_ms: Callable[[], int],
) -> Sweep:
    """Deletes the channel's messages up to `cutoff`, a page at a time from `cursor`; when
    the time left falls under TIME_MARGIN_MS, queues the rest with its cursor."""
    deleted = messages = objects = 0
    pins: set[str] | None = None
    while True:
        if remaining_ms() < TIME_MARGIN_MS:
            body = _task(
                "channel",
                workspaceId=workspace_id,
                channelId=channel_id,
                cutoff=cutoff,
                cursor=cursor,
            )
            _send(queue, [(channel_id, body)])
            logger.info("retention channel requeued", extra={"channelId": channel_id})
            return Sweep(deleted, messages, objects, requeued=True)
        page = retention_store.expired_page(channel_id, cutoff, cursor, PAGE)
        if not page:
            break
        if pins is None:
            pins = retention_store.pinned(channel_id)
        step = _step(workspace_id, channel_id, cutoff, page, pins=pins, bucket=bucket)
        deleted += step.deleted
        messages += step.messages
        objects += step.objects
        cursor = page[-1].ts
    if messages:
        metrics.add_metric("RetentionMessagesDeleted", MetricUnit.Count, messages)
        metrics.add_metric("RetentionFilesDeleted", MetricUnit.Count, objects)
        logger.info(
            "retention channel swept",
            extra={"channelId": channel_id, "messages": messages, "items": deleted},
        )
    return Sweep(deleted, messages, objects)


def _step(
    workspace_id: str,
    channel_id: str,
    cutoff: str,
    page: list[ExpiredMessage],
    *,
    pins: set[str],
    bucket: ObjectBucket,
) -> Sweep:
    doomed: dict[str, ExpiredMessage] = {m.ts: m for m in page}
    for message in page:
        # A thread whose replies are all past the cutoff too is deleted by the walk itself
        # (its replies follow it in the partition); only one that straddles the cutoff is
        # read from the thread index, its newer replies going with it.
        straddles = message.latestReplyTs is None or message.latestReplyTs > cutoff
        if message.replyCount and message.threadTs in (None, message.ts) and straddles:
            for reply in retention_store.thread_replies(channel_id, message.ts):
                doomed.setdefault(reply.ts, reply)
    shares = [(file_id, m.ts) for m in doomed.values() for file_id in m.fileIds]
    going = {(channel_id, ts) for _, ts in shares}
    # A file goes once nothing outside this step shares it: a share in a channel (or a
    # message) that keeps it longer keeps it.
    files = sorted(
        {file_id for file_id, _ in shares if not (retention_store.file_shares(file_id) - going)}
    )
    objects = retention_store.file_objects(workspace_id, files) if files else {}
    if objects:
        failed = bucket.remove_many(sorted(objects.values()))
        if failed:
            raise RuntimeError(f"the bucket did not delete {len(failed)} objects")
    roots = [ts for ts, m in doomed.items() if m.threadTs in (None, ts)]
    deletion = RetentionDeletion(
        workspaceId=workspace_id,
        channelId=channel_id,
        files=tuple(files),
        shares=tuple(dict.fromkeys(shares)),
        pins=tuple(sorted(pins & set(doomed))),
        replies=tuple(sorted(set(doomed) - set(roots))),
        roots=tuple(sorted(roots)),
    )
    deleted = retention_store.delete(deletion)
    pins -= set(doomed)
    return Sweep(deleted=deleted, messages=len(doomed), objects=len(objects))


# ------------------------------------------------------------------ the queue's worker


def handle(
    body: str, bucket: ObjectBucket, queue: TaskQueue, remaining_ms: Callable[[], int]
) -> Sweep:
    """One task: `plan`, `workspace` or `channel`. A task of another shape is dropped
    (retrying it would not help)."""
    try:
        task = json.loads(body)
        kind = task["kind"]
        if kind == "plan":
            plan(float(task["runAt"]), queue)
        elif kind == "workspace":
            plan_workspace(str(task["workspaceId"]), float(task["runAt"]), queue)
        elif kind == "channel":
            cursor = task.get("cursor")
            return sweep_channel(
                str(task["workspaceId"]),
                str(task["channelId"]),
                str(task["cutoff"]),
                str(cursor) if cursor else None,
                bucket=bucket,
                queue=queue,
                remaining_ms=remaining_ms,
            )
        else:
            logger.warning("retention task dropped: unknown kind", extra={"kind": kind})
    except (ValueError, KeyError, TypeError) as error:
        logger.warning("retention task dropped: malformed", extra={"error": str(error)})
    return Sweep()


def run_batch(
    messages: Sequence[tuple[str, str]],
    bucket: ObjectBucket,
    queue: TaskQueue,
    remaining_ms: Callable[[], int],
) -> list[str]:
    """Each queue message's task, in order; the ids of those to retry (SQS's partial batch
    response). Tasks not started when the time runs short go back on the queue."""
    failed: list[str] = []
    for position, (message_id, body) in enumerate(messages):
        if position and remaining_ms() < TIME_MARGIN_MS:
            failed.extend(queue.send(list(messages[position:])))
            break
        try:
            handle(body, bucket, queue, remaining_ms)
        except Exception:
            logger.exception("retention task failed", extra={"messageId": message_id})
            failed.append(message_id)
    return failed
