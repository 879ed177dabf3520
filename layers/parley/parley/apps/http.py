"""The HTTP client that delivers to apps (stdlib only: nothing for the layer to carry).

Redirects are not followed (a 3xx is an answer, and not a 2xx); an answer that does not
come within the timeout, a refused connection or a TLS failure is `Reply(0)`.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from parley.apps.delivery import Reply

MAX_REPLY_BYTES = 64 * 1024  # the challenge answer is all Parley reads of a reply


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class UrllibPoster:
    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(_NoRedirects)

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Reply:
        request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310  # http(s) only: CreateApp's pattern
        try:
            with self._opener.open(request, timeout=timeout) as answer:
                return Reply(answer.status, answer.read(MAX_REPLY_BYTES))
        except urllib.error.HTTPError as error:
            return Reply(error.code)
        except (urllib.error.URLError, TimeoutError, OSError, ValueError):
            return Reply(0)
