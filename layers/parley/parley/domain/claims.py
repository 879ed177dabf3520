"""Claiming a placeholder (API.md, "Importing from Slack"): a Slack import makes a
placeholder user for each person of the export whom no Parley user matches by email; the
first time a person signs in with that email, the placeholder becomes theirs.

A claim, for each unclaimed placeholder of the caller's email:
1. marks the placeholder's profile `claimedBy` the user (once: a conditional update, so two
   sign-ins racing claim it for one of them);
2. moves its memberships, of the workspace (its role) and of every channel (its read
   marker, so imported history stays read), and the DMs' claims on their member sets, and
   makes the user the creator of the channels the placeholder created: work in proportion
   to the placeholder's channels, done before the first request answers;
3. rewrites the authorship of the history of those channels: the messages it wrote, its
   reactions, its `<@mentions>`, each a version up so that search indexes it again. This is
   in proportion to the channels' history, so the request does what fits in a couple of
   seconds and hands the rest to the import queue (a `claim` work item, resumed by the
   import function from its cursor). Every step is idempotent: an interrupted claim is
   completed by the same step again.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from parley.domain.ports.channels import store as channel_store
from parley.domain.ports.claims import store as claim_store
from parley.domain.ports.messages import store as message_store
from parley.domain.records import ChannelRecord, MessageRecord, ReactionRecord
from parley.observability import logger

PAGE = 100
INLINE_SECONDS = 2.0  # what the first request spends on history before it hands the rest on
_REASSIGN_ATTEMPTS = 3


class WorkQueue(Protocol):
    """The import queue (parley.domain.imports.WorkQueue)."""

    def send(self, bodies: Sequence[tuple[str, str]]) -> set[str]: ...


@dataclass(frozen=True, slots=True)
class ClaimWork:
    """What is left of a claim's history: the channels still to rewrite, the first from
    `cursor`."""

    placeholder: str
    user: str
    channels: tuple[str, ...]
    cursor: str | None = None
    # Move what memberships are left first (an import that made some after the claim).
    memberships: bool = False

    def body(self) -> str:
        work = {
            "kind": "claim",
            "placeholder": self.placeholder,
            "user": self.user,
            "channels": list(self.channels),
            "cursor": self.cursor,
            "memberships": self.memberships,
        }
        return json.dumps(work, separators=(",", ":"))

    @classmethod
    def from_work(cls, work: dict[str, Any]) -> ClaimWork:
        channels = work["channels"]
        cursor = work.get("cursor")
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise TypeError("channels must be a list of ids")
        if cursor is not None and not isinstance(cursor, str):
            raise TypeError("cursor must be a string")
        return cls(
            str(work["placeholder"]),
            str(work["user"]),
            tuple(channels),
            cursor,
            memberships=work.get("memberships") is True,
        )


def claim_placeholders(
    user_id: str,
    email: str,
    queue: WorkQueue | None,
    *,
    budget_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """Claims every unclaimed placeholder with this email for the user; their ids. History
    that does not fit in `budget_s` (INLINE_SECONDS) goes to `queue` (without one, it is all
    done here)."""
    if not email:
        return []
    deadline = clock() + (INLINE_SECONDS if budget_s is None else budget_s)
    claimed = []
    for placeholder in claim_store.unclaimed_placeholders(email):
        if placeholder == user_id or not claim_store.claim(placeholder, user_id):
            continue
        channels = move_memberships(placeholder, user_id)
        rest = rewrite_history(
            ClaimWork(placeholder, user_id, tuple(c.channelId for c in channels)),
            deadline if queue is not None else float("inf"),
            clock,
        )
        if rest is not None and queue is not None:
            refused = queue.send([(placeholder, rest.body())])
            if refused:
                raise RuntimeError("the import queue refused a claim's history")
        logger.info(
            "placeholder claimed",
            extra={
                "placeholder": placeholder,
                "channels": len(channels),
                "queued": rest is not None,
            },
        )
        claimed.append(placeholder)
    return claimed


def _digest(members: Sequence[str]) -> str:
    """A DM's member set as Parley keys it (parley.domain.channels)."""
    return hashlib.sha256("\n".join(sorted(members)).encode()).hexdigest()


def move_memberships(placeholder: str, user_id: str) -> list[ChannelRecord]:
    claim_store.move_workspace_memberships(placeholder, user_id)
    channels = claim_store.move_channel_memberships(placeholder, user_id)
    for channel in channels:
        if channel.createdBy == placeholder:
            claim_store.set_creator(channel.channelId, placeholder, user_id)
        if channel.type in ("dm", "group_dm"):
            members = channel_store.member_ids(channel.channelId)
            before = [placeholder if m == user_id else m for m in members]
            claim_store.rekey_direct_message(
                channel.workspaceId, _digest(before), _digest(members), channel.channelId
            )
    return channels


def _mention(placeholder: str) -> re.Pattern[str]:
    return re.compile(rf"<@{re.escape(placeholder)}(\|[^>]*)?>")


def reassigned(message: MessageRecord, placeholder: str, user_id: str) -> MessageRecord | None:
    """The message with the user wherever it has the placeholder; None if it has none."""
    swap = {placeholder: user_id}
    reactions = tuple(
        ReactionRecord(r.name, tuple(dict.fromkeys(swap.get(u, u) for u in r.users)))
        for r in message.reactions
    )
    mentions = frozenset(swap.get(u, u) for u in message.mentions) if message.mentions else None
    text = _mention(placeholder).sub(lambda m: f"<@{user_id}{m.group(1) or ''}>", message.text)
    changed = replace(
        message,
        userId=swap.get(message.userId, message.userId),
        reactions=reactions,
        mentions=mentions,
        text=text,
    )
    return None if changed == message else changed


def _rewrite(message: MessageRecord, placeholder: str, user_id: str) -> None:
    current: MessageRecord | None = message
    for _ in range(_REASSIGN_ATTEMPTS):
        if current is None:
            return  # deleted since
        changed = reassigned(current, placeholder, user_id)
        if changed is None:
            return
        if claim_store.reassign(
            current,
            user_id=changed.userId,
            text=changed.text,
            reactions=changed.reactions,
            mentions=changed.mentions,
        ):
            return
        current = message_store.get_message(current.channelId, current.ts, consistent=True)
    raise RuntimeError(f"message {message.channelId}/{message.ts} kept changing")


def rewrite_history(
    work: ClaimWork, deadline: float, clock: Callable[[], float] = time.monotonic
) -> ClaimWork | None:
    """Rewrites the channels' history page by page until `deadline`; what is left, or None
    once every channel is done."""
    channels, cursor = list(work.channels), work.cursor
    while channels:
        if clock() >= deadline:
            return replace(work, channels=tuple(channels), cursor=cursor)
        page, cursor = claim_store.history_page(channels[0], cursor, PAGE)
        for message in page:
            _rewrite(message, work.placeholder, work.user)
        if cursor is None:
            channels.pop(0)
    return None


def resume(work: ClaimWork, queue: WorkQueue, deadline: float, clock: Callable[[], float]) -> None:
    """A queued claim's history (the import function): as far as the deadline allows, the
    rest queued again."""
    if work.memberships:
        move_memberships(work.placeholder, work.user)
        work = replace(work, memberships=False)
    rest = rewrite_history(work, deadline, clock)
    if rest is not None:
        refused = queue.send([(work.placeholder, rest.body())])
        if refused:
            raise RuntimeError("the import queue refused a claim's history")


def after_import(user_ids: list[str], channel_ids: list[str], queue: WorkQueue) -> int:
    """A claim made while an import ran saw only what was written by then: once the import
    is done, each of its placeholders that someone claimed gets its memberships moved and
    the import's channels rewritten again (idempotent), through the queue. How many."""
    claimed = claim_store.claimed_by(user_ids)
    bodies = [
        (placeholder, ClaimWork(placeholder, user, tuple(channel_ids), memberships=True).body())
        for placeholder, user in claimed.items()
    ]
    if bodies and queue.send(bodies):
        raise RuntimeError("the import queue refused a claim's history")
    return len(bodies)
