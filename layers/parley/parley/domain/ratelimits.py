"""Send rate limits: far above anyone typing, low enough to stop a runaway client.

A person gets a burst of 50 messages and then 10 a second in each channel; no one types
that fast, while a client stuck in a loop is refused within a second. Bots get Slack's
tighter limit, about one message a second per channel with short bursts: `limit_for` is the
one place that tells them apart, for the apps issue to extend.
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


def limit_for(caller: Caller) -> SendLimit:
    return BOT if caller.is_bot else PERSON


def check_send(caller: Caller, channel_id: str, now: float) -> None:
    """Counts one message from the caller in the channel, or raises RateLimited."""
    limit = limit_for(caller)
    if not rate_store.admit(
        caller.user_id, channel_id, burst=limit.burst, per_second=limit.per_second, now=now
    ):
        metrics.add_metric("MessageRateLimited", MetricUnit.Count, 1)
        raise RateLimited(
            f"too many messages in this channel; retry after {limit.retry_after_s} s",
            retry_after=limit.retry_after_s,
        )
