"""What API Gateway does alike in both APIs: the shapes of its ids and timestamps."""

from __future__ import annotations

import base64
import os
import time


def request_id() -> str:
    """An API Gateway-style request id (base64 of 12 random bytes, as `apigw-requestid`)."""
    return base64.b64encode(os.urandom(12)).decode()


def connection_id() -> str:
    """A WebSocket connection id shaped like API Gateway's (16 characters ending in `=`).
    URL-safe, so that it survives as one path segment of the `@connections` URL."""
    return base64.urlsafe_b64encode(os.urandom(10)).decode()


def request_time(epoch_s: float) -> str:
    """`12/Mar/2020:19:03:58 +0000`, API Gateway's `requestContext.time`."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_s))
