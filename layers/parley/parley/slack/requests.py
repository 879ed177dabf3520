"""A Web API call as API Gateway (payload format 2.0) hands it over, read as Slack reads
one: the method from the path, the token from `Authorization: Bearer` or the `token`
field, and parameters from the query string and a form-encoded or JSON body."""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

from parley.slack.web_api import Request, SlackError

MAX_BODY_BYTES = 1024 * 1024  # a 40,000-character text with 50 blocks fits many times


def base_url(headers: Mapping[str, str], domain_name: str) -> str:
    """The base URL of the API a request came through (API Gateway always sets
    X-Forwarded-Proto; the local gateway, plain HTTP, does not)."""
    return f"{headers.get('x-forwarded-proto', 'http')}://{domain_name}"


def _body(event: Mapping[str, Any]) -> bytes:
    raw = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return str(raw).encode()
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise SlackError("invalid_form_data") from None


def _form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise SlackError("invalid_charset") from None
    return {k: v[-1] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: "[[[[..."
        raise SlackError("invalid_json") from None
    if not isinstance(value, dict):
        raise SlackError("json_not_object")
    return value


def parse(event: Mapping[str, Any]) -> Request:
    """The call, or SlackError for a body Slack would refuse (`invalid_json`, ...)."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    context = event.get("requestContext") or {}
    method = str((event.get("pathParameters") or {}).get("method") or "")
    params: dict[str, Any] = {
        k: v[-1]
        for k, v in urllib.parse.parse_qs(
            str(event.get("rawQueryString") or ""), keep_blank_values=True
        ).items()
    }
    body = _body(event)
    if len(body) > MAX_BODY_BYTES:
        raise SlackError("request_too_large")
    if body.strip():
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        params.update(_json(body) if media == "application/json" else _form(body))
    authorization = headers.get("authorization", "")
    token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
    field_token = params.pop("token", None)
    token = token or (field_token if isinstance(field_token, str) else None)
    return Request(
        method=method,
        params=params,
        token=token or None,
        api_url=base_url(headers, str(context.get("domainName") or "localhost")),
    )
