"""Send rate limits: a generic cell rate algorithm (GCRA) on one item per sender and channel.

GCRA is a token bucket kept as a single number, the theoretical arrival time `tat`: each
admitted message moves it `interval` (1 / rate) into the future, and a message is admitted
while `tat` stays within `burst * interval` of now. Both cases are one conditional
UpdateItem each, so concurrent senders never need a read:

- idle (no item, or `tat` in the past): `tat = now + interval`;
- busy (`tat` between now and `now + (burst - 1) * interval`): `tat += interval`.

`count` admits several messages at once (`count` intervals, all or none): the domain's
quiet tier (parley.domain.ratelimits) hands over a message it let through unwritten
together with the one that follows it.

A person typing is always idle: one write per message. A flood costs two (the idle write
fails its condition first), and a refused message two as well. When both fail the next
message is admitted at most `interval` later, which is the Retry-After.
"""

from __future__ import annotations

import math

from pynamodb.expressions.update import Action

from parley.adapters.dynamodb.base import conditional, epoch
from parley.adapters.dynamodb.items import SendRateItem

_MICROS = 1_000_000


def admit(
    user_id: str,
    channel_id: str,
    *,
    burst: int,
    per_second: float,
    now: float,
    count: int = 1,
) -> bool:
    """Whether these `count` messages fit the sender's limit in the channel (and counts
    them if so)."""
    if count > burst:
        return False
    interval = round(_MICROS / per_second)
    advance = interval * count
    now_us = round(now * _MICROS)
    item = SendRateItem(f"RATE#{user_id}#{channel_id}", "RATE")
    tat = SendRateItem.tatMicros

    def expires(tat_us: int) -> Action:
        return SendRateItem.ttl.set(epoch(math.ceil(tat_us / _MICROS) + 1))

    if conditional(
        lambda: item.update(
            actions=[tat.set(now_us + advance), expires(now_us + advance)],
            condition=tat.does_not_exist() | (tat <= now_us),
        )
    ):
        return True
    busy_until = now_us + (burst - count) * interval
    return conditional(
        lambda: item.update(
            actions=[tat.add(advance), expires(busy_until + advance)],
            condition=tat.between(now_us, busy_until),
        )
    )
