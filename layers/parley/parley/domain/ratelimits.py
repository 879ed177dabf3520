"""Send rate limits: far above anyone typing, low enough to stop a runaway client.

A person gets a burst of 50 messages and then 10 a second in each channel; no one types
that fast, while a client stuck in a loop is refused within a second. Bots get Slack's
tighter limit, about one message a second per channel with short bursts: `limit_for` is the
one place that tells them apart, for the apps issue to extend.

The shared count is a conditional UpdateItem (parley.adapters.dynamodb.ratelimits), a write
unit per message: more than the rest of a message's writes. A person's messages mostly come
seconds apart, and such a message cannot break a limit of ten a second, so a warm function
lets it through unwritten: the quiet tier. A message that follows the sender's previous one
in this channel within `QUIET_S` (or the limit's interval, if longer) goes to the shared
count, carrying the previous one if that went unwritten, so a burst is counted whole from
its first message. What the tier can let through uncounted is one message per sender,
channel and warm function instance in each `QUIET_S`: a flood spread over many instances is
counted once it runs faster than one message a second in each. Bots always take the shared
count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from parley.domain.caller import Caller
from parley.domain.ports.ratelimits import store as rate_store
from parley.errors import RateLimited
from parley.observability import MetricUnit, metrics


@dataclass(frozen=True)
class SendLimit:
    burst: int
    per_second: float

    @property
    def retry_after_s(self) -> int:
        """When refused, the next message fits within one interval (see
        parley.adapters.dynamodb.ratelimits)."""
        return max(1, math.ceil(1 / self.per_second))


PERSON = SendLimit(burst=50, per_second=10)
BOT = SendLimit(burst=3, per_second=1)

QUIET_S = 1.0
QUIET_TIER = True  # off: every message takes the shared count (benchmarks that compare paths)
_QUIET_KEYS = 4096  # past this many senders and channels, the quiet ones are forgotten


@dataclass
class _Last:
    at: float
    unwritten: bool  # let through by the quiet tier, not yet in the shared count


_last: dict[tuple[str, str], _Last] = {}


def limit_for(caller: Caller) -> SendLimit:
    return BOT if caller.is_bot else PERSON


def check_send(caller: Caller, channel_id: str, now: float) -> None:
    """Counts one message from the caller in the channel, or raises RateLimited."""
    limit = limit_for(caller)
    quiet_tier = QUIET_TIER and not caller.is_bot
    if not quiet_tier:
        count = 1
    else:
        key = (caller.user_id, channel_id)
        last = _last.get(key)
        quiet = max(QUIET_S, 1 / limit.per_second)
        if last is None or now - last.at >= quiet:
            _remember(key, _Last(now, unwritten=True), now, quiet)
            return
        count = 2 if last.unwritten else 1
    if not rate_store.admit(
        caller.user_id,
        channel_id,
        burst=limit.burst,
        per_second=limit.per_second,
        now=now,
        count=count,
    ):
        if quiet_tier:  # a flood that goes on never looks quiet
            _last[(caller.user_id, channel_id)] = _Last(now, unwritten=count == 2)
        metrics.add_metric("MessageRateLimited", MetricUnit.Count, 1)
        raise RateLimited(
            f"too many messages in this channel; retry after {limit.retry_after_s} s",
            retry_after=limit.retry_after_s,
        )
    if quiet_tier:
        _last[(caller.user_id, channel_id)] = _Last(now, unwritten=False)


def _remember(key: tuple[str, str], last: _Last, now: float, quiet: float) -> None:
    if len(_last) >= _QUIET_KEYS:
        for stale in [k for k, v in _last.items() if now - v.at >= quiet]:
            del _last[stale]
        if len(_last) >= _QUIET_KEYS:
            _last.clear()
    _last[key] = last


def forget() -> None:
    """Drops what this instance remembers of recent senders (tests, benchmarks)."""
    _last.clear()
