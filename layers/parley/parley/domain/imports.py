"""Slack imports (API.md, "Importing from Slack"): a workspace admin uploads an export's zip
with a presigned POST, starts the import and reads its status; the import function does the
work, a queue message at a time.

The work. `start` queues one `plan`: it opens the zip through ranged GETs (never holding it),
checks it (parley.imports: caps, names, ratios), reads users.json and the conversation lists,
makes the users and channels, stores the maps from Slack ids to Parley's for the chunks to
read, records how many chunks there are and queues a `chunk` per day file (SQS batches of
10). A chunk streams its day file, maps each message, and writes those its channel does not
hold yet (one BatchGetItem per 100, then BatchWriteItem 25 at a time), then recounts the
threads it touched, then counts itself once: a marker item put in the same transaction that
adds its counts to the import. The chunk that brings the count of chunks done to the
planned count sets the import done. Everything a run writes has a key derived from the
export (placeholders' and bots' ids, channels' ids, messages' channel and ts), so a re-run
of the plan, a redelivered chunk or a second import of the same export finds its work done:
users, channels and memberships by conditional puts, messages by the existence check (which
also keeps what people did since, a reaction or an edit, from being overwritten).

Users (parley.imports.mapping.plan_users). A Slack user is matched by email to a member of
the workspace, else to any Parley user of that email, who is then added to the workspace;
anyone else becomes a placeholder user (a profile with that email, `imported` placeholder),
which a person who signs up with the email is meant to claim; a bot is a bot user per bot
id (a workspace member with isBot). Deactivated Slack accounts get a profile (their messages
keep an author) but no membership of the workspace or of its channels; they stay members of
their DMs (a DM is its set of people).

Channels (parley.imports.mapping.plan_channels). A public channel whose name the workspace
has as a public channel is merged into it; any other clash gets `{name}-imported`. Private
channels keep their members and no one else: a channel's creator is its Slack creator if a
current member, else its first member, and only with no member at all the importing admin.
DMs and group DMs are opened by their members as Parley opens them, so an existing DM of the
same people gets the history.

Threads. A root's replyCount and latestReplyTs are set from its replies as the thread index
holds them (with the replies the chunk just wrote, which the index may not show yet), only
upward, by every chunk that wrote a reply of the thread or its root: the chunks of a thread
may run in any order and at once, and the last one to count sees every reply. The index is
eventually consistent, so two chunks of one thread finishing within its lag may leave a
count low; a second import of the same export counts again and corrects it.

Not fanned out, not unread, not notified. The import publishes nothing. A member the import
adds to a channel joins with the read marker at the time of joining, after every imported
message; in a merged channel (or an existing DM) the members' markers move forward to the
end of the last imported day (not past now). No thread is followed. Imported messages carry
`imported`, which the notifier's stream filter leaves out, and apps get no message event for
them. They reach search through the stream like every write.

Errors. A message that cannot be imported (no ts, no author) is counted (`invalid`) and its
reason kept among the first `MAX_ERRORS` errors; the import goes on. An export refused
anywhere (parley.imports.archive.ExportRefused: a bomb, an unsafe name, bad UTF-8, no
users.json...) fails the import with the reason. What a failed import wrote stays: the plan
writes users, channels and memberships before any message; a chunk refused midway keeps the
messages before the fault, and the chunks that ran keep theirs. A new import of a good
export completes it (it finds what exists and writes the rest).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from parley.domain import access, claims
from parley.domain.caller import Caller
from parley.domain.mentions import parse as parse_mentions
from parley.domain.objects import UploadForm
from parley.domain.ports.channels import NameTaken
from parley.domain.ports.channels import store as channel_store
from parley.domain.ports.imports import ChunkCounts
from parley.domain.ports.imports import store as import_store
from parley.domain.ports.users import store as user_store
from parley.domain.ports.workspaces import store as workspace_store
from parley.domain.records import (
    ChannelRecord,
    ImportRecord,
    MessageRecord,
    ReactionRecord,
    WorkspaceMemberRecord,
)
from parley.errors import InvalidRequest, NotFound, TooLarge
from parley.ids import iso_now, new_id, now_micros, ts_from_micros
from parley.imports.archive import ExportRefused, RangedReader
from parley.imports.mapping import (
    ChannelPlan,
    ExistingChannel,
    ImportedMessage,
    InvalidMessage,
    UserMap,
    UserPlan,
    map_message,
    plan_channels,
    plan_users,
)
from parley.imports.slack_export import (
    Chunk,
    Conversation,
    SlackExport,
    SlackUser,
    chunk_messages,
    team_of,
)
from parley.observability import MetricUnit, logger, metrics

if TYPE_CHECKING:
    from parley.edge.schemas import CreateImport, Import

# The upload form's lifetime: a 5 GiB export takes minutes to send.
UPLOAD_SECONDS = 3600
MAX_ERRORS = 20
# Messages checked for existence at once (one BatchGetItem), then written 25 a request.
WRITE_WINDOW = 100
TOPIC_CHARS = 250  # parley.edge.schemas: a channel's topic
# A zip's end of central directory record starts within its last 22 + 65,535 bytes.
_ZIP_TAIL = 22 + 0xFFFF
_END_RECORD = b"PK\x05\x06"
# A batch stops taking work when less time is left than twice its longest item so far
# (and this much besides); what it has not started goes back on the queue.
_TIME_MARGIN_MS = 2_000


class StoredZip(Protocol):
    size: int


class ImportBucket(Protocol):
    """Where exports are uploaded (parley.adapters.s3.S3FileBucket in Lambda)."""

    def import_form(
        self, key: str, max_bytes: int, expires_in: int
    ) -> tuple[str, dict[str, str]]: ...

    def stat(self, key: str) -> StoredZip | None: ...

    def read_range(self, key: str, start: int, end: int) -> bytes: ...


class WorkQueue(Protocol):
    """The import queue (parley.adapters.sqs.SqsQueue): (id, body) pairs; the ids refused."""

    def send(self, bodies: Sequence[tuple[str, str]]) -> set[str]: ...


# ------------------------------------------------------------------ the routes


def import_view(record: ImportRecord) -> Import:
    from parley.edge.schemas import Import, ImportChunks, ImportCounts

    return Import(
        id=record.importId,
        workspaceId=record.workspaceId,
        name=record.name,
        status=record.status,
        createdBy=record.createdBy,
        createdAt=record.createdAt,
        counts=ImportCounts(
            users=record.users,
            channels=record.channels,
            messages=record.messages,
            replies=record.replies,
            reactions=record.reactions,
            files=record.files,
            invalid=record.invalid,
        ),
        chunks=ImportChunks(total=record.chunks, done=record.chunksDone),
        errors=[*record.errors[:MAX_ERRORS], *([record.reason] if record.reason else [])],
        reason=record.reason,
    )


def object_key(import_id: str) -> str:
    """The zip's key: under the import's own prefix, which only its upload form may write."""
    return f"imports/{import_id}/export.zip"


def create_import(
    caller: Caller, workspace_id: str, body: CreateImport, bucket: ImportBucket, max_bytes: int
) -> tuple[Import, UploadForm]:
    """A pending import and the presigned POST of its zip (workspace admins only; a
    declared size over the limit is refused before anything is written)."""
    access.workspace_admin(workspace_id, caller.user_id)
    if body.size > max_bytes:
        raise TooLarge(f"the export is {body.size:,} bytes; the limit is {max_bytes:,}")
    import_id = new_id("I")
    record = ImportRecord(
        importId=import_id,
        workspaceId=workspace_id,
        name=body.name,
        size=body.size,
        createdBy=caller.user_id,
        createdAt=iso_now(),
        objectKey=object_key(import_id),
        uploadExpiresAt=int(time.time()) + UPLOAD_SECONDS,
    )
    import_store.create_import(record)
    url, fields = bucket.import_form(record.objectKey, max_bytes, UPLOAD_SECONDS)
    metrics.add_metric("ImportCreated", MetricUnit.Count, 1)
    expires_at = datetime.fromtimestamp(record.uploadExpiresAt, UTC)
    form = UploadForm(
        url=url, fields=fields, expiresAt=expires_at.isoformat().replace("+00:00", "Z")
    )
    return import_view(record), form


def _visible(caller: Caller, import_id: str) -> ImportRecord:
    """The import, for an admin of its workspace; for anyone else it does not exist."""
    record = import_store.get_import(import_id, consistent=True)
    if record is None or not access.is_admin(record.workspaceId, caller.user_id):
        raise NotFound("import not found")
    return record


def get_import(caller: Caller, import_id: str) -> Import:
    return import_view(_visible(caller, import_id))


def start_import(caller: Caller, import_id: str, bucket: ImportBucket, queue: WorkQueue) -> Import:
    """Queues the plan of an uploaded import: a zip missing or not a zip at all is a 400
    (the rest of what makes it unreadable fails it, with the reason, once the plan reads
    it). An import started already is returned as it is."""
    record = _visible(caller, import_id)
    if record.status != "pending":
        return import_view(record)
    stored = bucket.stat(record.objectKey)
    if stored is None:
        raise InvalidRequest(
            "nothing has been uploaded for this import yet: POST the export's zip with the "
            "upload form the import was created with, then start it"
        )
    problem = _not_a_zip(bucket, record.objectKey, stored.size)
    if problem is not None:
        raise InvalidRequest(f"the upload is not a readable zip file: {problem}")
    _send(queue, [(import_id, _work("plan", import_id))])
    import_store.mark_running(import_id)
    metrics.add_metric("ImportStarted", MetricUnit.Count, 1)
    return import_view(import_store.get_import(import_id, consistent=True) or record)


def _not_a_zip(bucket: ImportBucket, key: str, size: int) -> str | None:
    """Why the object cannot be a zip, from its tail (one ranged GET), or None."""
    if size < 22:
        return f"it is {size} bytes long"
    tail = bucket.read_range(key, max(0, size - _ZIP_TAIL), size)
    return None if _END_RECORD in tail else "it has no end of central directory record"


def _work(kind: str, import_id: str, **rest: Any) -> str:
    return json.dumps({"kind": kind, "importId": import_id, **rest}, separators=(",", ":"))


def _send(queue: WorkQueue, bodies: list[tuple[str, str]]) -> None:
    refused = queue.send(bodies)
    if refused:
        raise RuntimeError(f"the import queue refused {len(refused)} of {len(bodies)} messages")


# ------------------------------------------------------------------ the worker


def run_batch(
    messages: Sequence[tuple[str, str]],
    bucket: ImportBucket,
    queue: WorkQueue,
    remaining_ms: Callable[[], int],
) -> list[str]:
    """Does each queue message's work, in order; the ids of those to retry (SQS's partial
    batch response). When the time left falls under twice the longest item so far, the
    items not started go back on the queue (not counted as a failed receive)."""
    failed: list[str] = []
    longest = 0
    for position, (message_id, body) in enumerate(messages):
        if position and remaining_ms() < 2 * longest + _TIME_MARGIN_MS:
            later = list(messages[position:])
            failed.extend(queue.send(later))
            logger.info("import batch handed back", extra={"messages": len(later)})
            break
        started = time.monotonic()
        # A claim's history stops in time for the rest of the batch (and the margin).
        deadline = started + (remaining_ms() - _TIME_MARGIN_MS) / 2000
        try:
            handle(body, bucket, queue, deadline)
        except Exception:
            logger.exception("import work failed", extra={"messageId": message_id})
            failed.append(message_id)
        longest = max(longest, int((time.monotonic() - started) * 1000))
    return failed


def handle(
    body: str,
    bucket: ImportBucket,
    queue: WorkQueue,
    deadline: float = float("inf"),
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """One queue message: `{"kind": "plan", "importId"}`, `{"kind": "chunk", "importId",
    "chunk"}`, or a claim's history (`{"kind": "claim", ...}`, parley.domain.claims), done
    until `deadline` and the rest queued again. A message of another shape is dropped
    (retrying it would not help)."""
    try:
        work = json.loads(body)
        kind = work["kind"]
        if kind == "claim":
            claims.resume(claims.ClaimWork.from_work(work), queue, deadline, clock)
            return
        import_id = str(work["importId"])
        chunk = Chunk.from_dict(work["chunk"]) if kind == "chunk" else None
    except (ValueError, KeyError, TypeError) as error:
        logger.warning("import work dropped: not a plan or a chunk", extra={"error": str(error)})
        return
    if kind == "plan":
        plan(import_id, bucket, queue)
    elif chunk is not None:
        run_chunk(import_id, chunk, bucket, queue)
    else:
        logger.warning("import work dropped: unknown kind", extra={"kind": kind})


def _fail(record: ImportRecord, reason: str) -> None:
    if import_store.fail(record.importId, reason):
        metrics.add_metric("ImportFailed", MetricUnit.Count, 1)
        logger.warning("import failed", extra={"importId": record.importId, "reason": reason})


def _reader(bucket: ImportBucket, key: str, size: int) -> RangedReader:
    return RangedReader(lambda start, end: bucket.read_range(key, start, end), size)


@dataclass(frozen=True)
class _Export:
    users: list[SlackUser]
    conversations: list[Conversation]
    chunks: list[Chunk]
    team_id: str
    size: int
    warnings: list[str]


def _open(record: ImportRecord, bucket: ImportBucket) -> _Export:
    """The export, checked and its metadata read; raises ExportRefused."""
    stored = bucket.stat(record.objectKey)
    if stored is None:
        raise ExportRefused("the export's zip is no longer in the bucket; upload it again")
    export = SlackExport(_reader(bucket, record.objectKey, stored.size))
    users = export.users()
    conversations = export.conversations()
    chunks = export.chunks()
    return _Export(users, conversations, chunks, team_of(users), stored.size, export.warnings)


def plan(import_id: str, bucket: ImportBucket, queue: WorkQueue) -> None:
    """Users, channels and memberships, the maps, then a chunk per day file (see the
    module's docstring). Idempotent: a redelivered plan does it all again, writing nothing
    new, and queues the chunks again (each counts once)."""
    record = import_store.get_import(import_id, consistent=True)
    if record is None or record.status in ("done", "failed"):
        return
    import_store.mark_running(import_id)
    try:
        export = _open(record, bucket)
    except ExportRefused as refused:
        _fail(record, refused.reason)
        return
    workspace_id, now = record.workspaceId, iso_now()
    users = _map_users(workspace_id, export.team_id, export.users)
    for user_plan in users.plans.values():
        _ensure_user(workspace_id, user_plan, now)
    existing = [
        ExistingChannel(c.channelId, c.name, c.type)
        for c in import_store.named_channels(workspace_id)
    ]
    plans = plan_channels(
        export.conversations, workspace_id=workspace_id, team_id=export.team_id, existing=existing
    )
    channels, shared = _ensure_channels(record, export.conversations, plans, users, now)
    _raise_markers(shared, export.chunks)
    import_store.save_maps(import_id, users.ids, channels)
    chunks = [c for c in export.chunks if c.conversation_id in channels]
    import_store.set_planned(
        import_id,
        team_id=export.team_id,
        object_size=export.size,
        users=len(users.plans),
        channels=len(channels),
        chunks=len(chunks),
    )
    logger.info(
        "import planned",
        extra={
            "importId": import_id,
            "users": len(users.plans),
            "channels": len(channels),
            "chunks": len(chunks),
            "warnings": export.warnings[:MAX_ERRORS],
        },
    )
    _send(queue, [(c.id, _work("chunk", import_id, chunk=c.to_dict())) for c in chunks])
    if import_store.finish_if_complete(import_id):  # an export with no day files
        metrics.add_metric("ImportDone", MetricUnit.Count, 1)


def _map_users(workspace_id: str, team_id: str, users: list[SlackUser]) -> UserMap:
    """Who each Slack user is: the workspace's members by email first (one Query and a
    BatchGetItem per 100), then any Parley user by email (a Query per email left)."""
    wanted = {u.email.strip().lower() for u in users if u.email and not u.is_bot}
    by_email: dict[str, str] = {}
    members = user_store.get_users(workspace_store.all_member_ids(workspace_id))
    for member in sorted(members.values(), key=lambda m: (m.createdAt, m.userId)):
        email = member.email.strip().lower()
        if email in wanted:
            by_email.setdefault(email, member.userId)
    for email in sorted(wanted - set(by_email)):
        found = sorted(user_store.find_by_email(email), key=lambda u: (u.createdAt, u.userId))
        if found:
            by_email[email] = found[0].userId
    return plan_users(users, workspace_id=workspace_id, team_id=team_id, existing_by_email=by_email)


_ensured: set[tuple[str, str]] = set()  # (workspace, user) made or found by this process


def _ensure_user(workspace_id: str, user: UserPlan, now: str) -> None:
    """The user's profile (placeholders and bots) and membership of the workspace (not for
    deactivated accounts): conditional puts, once per process."""
    if (workspace_id, user.parley_id) in _ensured:
        return
    if user.kind in ("placeholder", "bot"):
        kind: Literal["placeholder", "bot"] = "bot" if user.kind == "bot" else "placeholder"
        import_store.ensure_user(user.parley_id, user.name, user.email or "", kind)
    if not user.deleted:
        workspace_store.add_member(
            WorkspaceMemberRecord(
                workspaceId=workspace_id,
                userId=user.parley_id,
                role="member",
                joinedAt=now,
                isBot=user.kind == "bot",
            )
        )
    _ensured.add((workspace_id, user.parley_id))


def _created_at(conversation: Conversation, now: str) -> str:
    if conversation.created is None:
        return now
    moment = datetime.fromtimestamp(conversation.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _members(conversation: Conversation, users: UserMap, *, direct: bool) -> list[str]:
    """The conversation's members as Parley users: those users.json names, but for a
    channel not its deactivated accounts. A DM keeps them: a DM is its set of people, and
    without the one who left, two people's DMs with a former colleague would be one."""
    members: dict[str, None] = {}
    for slack_id in conversation.members:
        parley_id = users.ids.get(slack_id)
        if parley_id is not None and (direct or not users.plans[parley_id].deleted):
            members[parley_id] = None
    return list(members)


def _ensure_channels(
    record: ImportRecord,
    conversations: list[Conversation],
    plans: list[ChannelPlan],
    users: UserMap,
    now: str,
) -> tuple[dict[str, str], dict[str, str]]:
    """Each conversation's channel, made or found, with its members. Returns the map of
    conversation ids to channel ids, and the conversations whose channel others were in
    before (merged channels, existing DMs)."""
    by_id = {c.id: c for c in conversations}
    own = [p.parley_id for p in plans if p.kind in ("public", "private") and not p.merged]
    known = {c.channelId: c for c in channel_store.get_channels(own)}
    channels: dict[str, str] = {}
    shared: dict[str, str] = {}
    for channel_plan in plans:
        conversation = by_id[channel_plan.slack_id]
        direct = channel_plan.kind in ("dm", "group_dm")
        members = _members(conversation, users, direct=direct)
        if direct:
            if not members:
                logger.warning("conversation skipped: no member", extra={"id": conversation.id})
                continue
            channel = _open_direct_message(record.workspaceId, channel_plan, members, now)
            if channel.channelId != channel_plan.parley_id:
                shared[conversation.id] = channel.channelId
        elif channel_plan.merged:
            found = channel_store.get_channel(channel_plan.parley_id)
            if found is None:  # deleted since the plan read it: retried, planned again
                raise RuntimeError(f"channel {channel_plan.parley_id} vanished while importing")
            channel = found
            shared[conversation.id] = channel.channelId
        else:
            channel = known.get(channel_plan.parley_id) or _create_channel(
                record, conversation, channel_plan, users=users, members=members, now=now
            )
        if channel.type not in ("dm", "group_dm"):
            channel_store.add_channel_members(channel, members, now)
        channels[conversation.id] = channel.channelId
    return channels, shared


def _create_channel(
    record: ImportRecord,
    conversation: Conversation,
    channel_plan: ChannelPlan,
    *,
    users: UserMap,
    members: list[str],
    now: str,
) -> ChannelRecord:
    """The channel, made with its Slack creator (if a current member), else its first
    member, as creator; the importing admin only for a channel of no members."""
    creator = users.ids.get(conversation.creator) if conversation.creator else None
    if creator not in members:
        creator = members[0] if members else record.createdBy
    channel = ChannelRecord(
        channelId=channel_plan.parley_id,
        workspaceId=record.workspaceId,
        name=channel_plan.name or channel_plan.parley_id.lower(),
        type=channel_plan.kind,
        topic=(conversation.topic or conversation.purpose)[:TOPIC_CHARS],
        createdBy=str(creator),
        createdAt=_created_at(conversation, now),
        memberCount=1,
    )
    try:
        channel_store.create_channel(channel)
    except NameTaken:
        existing = channel_store.get_channel(channel.channelId)
        if existing is None:  # the name was taken since the plan read the names: plan again
            raise RuntimeError(f"the name #{channel.name} was taken while importing") from None
        return existing
    return channel


def _open_direct_message(
    workspace_id: str, channel_plan: ChannelPlan, members: list[str], now: str
) -> ChannelRecord:
    """The DM or group DM of exactly these people, as Parley opens one (the same digest of
    the sorted members), made with the import's derived id if it is new."""
    people = sorted(members)
    digest = hashlib.sha256("\n".join(people).encode()).hexdigest()
    candidate = ChannelRecord(
        channelId=channel_plan.parley_id,
        workspaceId=workspace_id,
        name="dm-" + digest[:12],
        type="group_dm" if len(people) > 2 else "dm",
        topic="",
        createdBy=people[0],
        createdAt=now,
        memberCount=len(people),
    )
    return channel_store.open_direct_message(candidate, people, digest)


def _day_end_ts(day: str) -> str:
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return ts_from_micros(int(start.timestamp() + 86_400) * 1_000_000 - 1)


def _raise_markers(shared: dict[str, str], chunks: list[Chunk]) -> None:
    """In channels that had members before the import, everyone's read marker moves to
    the end of the last imported day (never past now): the history is not unread."""
    last_day: dict[str, str] = {}
    for chunk in chunks:
        last_day[chunk.conversation_id] = max(chunk.date, last_day.get(chunk.conversation_id, ""))
    now_ts = ts_from_micros(now_micros())
    for conversation_id, channel_id in shared.items():
        if conversation_id in last_day:
            import_store.raise_read_markers(
                channel_id, min(now_ts, _day_end_ts(last_day[conversation_id]))
            )


@dataclass(frozen=True)
class _Maps:
    users: dict[str, str]
    channels: dict[str, str]


_maps: dict[str, _Maps] = {}  # by import id: a warm function runs many chunks of one import


def _maps_of(import_id: str) -> _Maps:
    found = _maps.get(import_id)
    if found is None:
        if len(_maps) >= 4:
            _maps.pop(next(iter(_maps)))
        found = _maps[import_id] = _Maps(*import_store.load_maps(import_id))
    return found


def run_chunk(
    import_id: str, chunk: Chunk, bucket: ImportBucket, queue: WorkQueue | None = None
) -> None:
    """Writes one day file's messages and counts the chunk once (see the module's
    docstring); an import that ended (failed, or done: every chunk counted) is left."""
    record = import_store.get_import(import_id, consistent=True)
    if record is None or record.status != "running" or record.objectSize is None:
        return
    if import_store.chunk_done(import_id, chunk.id):
        # Counted by an earlier delivery, which may have stopped before it set the import done.
        if record.chunks is not None and record.chunksDone >= record.chunks:
            _finish(import_id, queue)
        return
    maps = _maps_of(import_id)
    channel_id = maps.channels.get(chunk.conversation_id)
    if channel_id is None:
        logger.warning("chunk of no planned channel", extra={"chunk": chunk.id})
        return
    writer = _ChunkWriter(record, chunk, channel_id, maps)
    try:
        for raw in chunk_messages(_reader(bucket, record.objectKey, record.objectSize), chunk):
            writer.add(raw)
        writer.flush()
    except ExportRefused as refused:
        _fail(record, refused.reason)
        return
    writer.recount()
    if import_store.complete_chunk(import_id, chunk.id, writer.counts, writer.errors, MAX_ERRORS):
        metrics.add_metric("ImportedMessages", MetricUnit.Count, writer.written)
        _finish(import_id, queue)


def _finish(import_id: str, queue: WorkQueue | None) -> None:
    """Sets the import done once every chunk is counted; then queues the completion of the
    claims made while it ran (parley.domain.claims)."""
    if not import_store.finish_if_complete(import_id):
        return
    metrics.add_metric("ImportDone", MetricUnit.Count, 1)
    logger.info("import done", extra={"importId": import_id})
    if queue is not None:
        maps = _maps_of(import_id)
        claims.after_import(list(maps.users.values()), list(maps.channels.values()), queue)


def _iso_of_ts(ts: str) -> str:
    seconds, _, micros = ts.partition(".")
    moment = datetime.fromtimestamp(int(seconds), UTC).replace(microsecond=int(micros or 0))
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _ChunkWriter:
    """One chunk's messages, mapped and written a window at a time."""

    record: ImportRecord
    chunk: Chunk
    channel_id: str
    maps: _Maps
    counts: ChunkCounts = field(default_factory=ChunkCounts)
    errors: list[str] = field(default_factory=list)
    written: int = 0
    _pending: list[MessageRecord] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _threads: dict[str, set[str]] = field(default_factory=dict)  # root ts -> replies written
    _replies: dict[str, set[str]] = field(default_factory=dict)  # root ts -> replies in the file
    _declared: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # root ts -> Slack's counts

    def _error(self, reason: str) -> None:
        self.counts = _plus(self.counts, invalid=1)
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(f"{self.chunk.id}: {reason}")

    def add(self, raw: dict[str, Any]) -> None:
        try:
            imported = map_message(raw, users=self.maps.users, channels=self.maps.channels)
        except InvalidMessage as invalid:
            self._error(invalid.reason)
            return
        if imported is None:
            return
        if imported.ts in self._seen:
            self._error(f"the message {imported.ts} is listed twice; kept the first")
            return
        self._seen.add(imported.ts)
        if raw.get("thread_ts") == imported.ts:  # a thread's root
            self._threads.setdefault(imported.ts, set())
            self._declared[imported.ts] = (raw.get("reply_count"), raw.get("latest_reply"))
        if imported.thread_ts is not None:
            self._threads.setdefault(imported.thread_ts, set())
            self._replies.setdefault(imported.thread_ts, set()).add(imported.ts)
        self._pending.append(self._message(imported))
        self.counts = _plus(
            self.counts,
            messages=0 if imported.thread_ts else 1,
            replies=1 if imported.thread_ts else 0,
            reactions=sum(len(users) for _, users in imported.reactions),
            files=len(imported.files),
        )
        if len(self._pending) >= WRITE_WINDOW:
            self.flush()

    def _user(self, slack_id: str, *, bot: bool = False, name: str | None = None) -> str:
        """A Slack id as a Parley user: the plan's, else a placeholder or bot users.json
        lacks, derived as every chunk derives it (and made, once per process)."""
        found = self.maps.users.get(slack_id)
        if found is not None:
            return found
        plan = UserMap(self.record.workspaceId, self.record.teamId or "", {}, {}).resolve(
            slack_id, bot=bot, name=name
        )
        _ensure_user(self.record.workspaceId, plan, iso_now())
        return plan.parley_id

    def _message(self, imported: ImportedMessage) -> MessageRecord:
        author = self._user(imported.user, bot=imported.by_bot, name=imported.bot_name)
        reactions = tuple(
            ReactionRecord(name=name, users=tuple(dict.fromkeys(self._user(u) for u in users)))
            for name, users in imported.reactions
        )
        mentions = parse_mentions(imported.text)
        return MessageRecord(
            channelId=self.channel_id,
            workspaceId=self.record.workspaceId,
            ts=imported.ts,
            userId=author,
            text=imported.text,
            createdAt=_iso_of_ts(imported.ts),
            threadTs=imported.thread_ts,
            reactions=reactions,
            editedTs=imported.edited_ts,
            mentions=mentions.users or None,
            broadcast=mentions.broadcast,
            subtype=imported.subtype,
        )

    def flush(self) -> None:
        if not self._pending:
            return
        there = import_store.existing_messages(self.channel_id, [m.ts for m in self._pending])
        fresh = [m for m in self._pending if m.ts not in there]
        if fresh:
            import_store.write_messages(fresh)
        for message in fresh:
            if message.threadTs is not None:
                self._threads[message.threadTs].add(message.ts)
        self.written += len(fresh)
        self._pending = []

    def recount(self) -> None:
        """Each thread the file touched. A thread that lies wholly in this file, as the
        root's own reply_count and latest_reply say and its replies here confirm, is
        counted from them (no Query of the thread index); any other is counted from the
        index, which holds the replies of every file (a count Slack got wrong included)."""
        for root, written in self._threads.items():
            here = self._replies.get(root, set())
            declared_count, declared_latest = self._declared.get(root, (None, None))
            whole = (
                root in self._declared
                and declared_count == len(here)
                and (declared_latest is None or not here or declared_latest == max(here))
            )
            if not whole:
                import_store.recount_thread(self.channel_id, root, written)
            elif here:
                import_store.set_thread_counts(self.channel_id, root, len(here), max(here))


def _plus(counts: ChunkCounts, **more: int) -> ChunkCounts:
    return ChunkCounts(
        **{name: getattr(counts, name) + more.get(name, 0) for name in ChunkCounts.__slots__}
    )
