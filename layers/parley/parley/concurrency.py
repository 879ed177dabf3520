"""Two independent calls at once, for a request path whose steps each wait on DynamoDB.

Posting a message waits on four requests in turn: the channel and its members, the
sender's rate limit, the message's put and the members' connections. The first two do
not depend on each other, nor do the last two, so `both` runs each pair side by side and
a post waits on two round trips instead of four, in Lambda as in the local stack.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")

# A few threads serve every pair of a process: an invocation runs one pair at a time.
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="both")


def both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """Runs `second` on a pool thread while `first` runs on this one; returns both results.

    When both raise, `first`'s error is the one raised: callers put the check whose error
    the client should see first (not found before rate limited). Either way, `second` has
    finished before this returns or raises, so that no request of an invocation is still
    in flight when Lambda freezes the environment after it.
    """
    future = _pool.submit(second)
    try:
        result = first()
    finally:
        wait([future])
    return result, future.result()
