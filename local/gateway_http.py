"""The HTTP API: API Gateway's HTTP API in front of Lambda proxy integrations, payload 2.0.

Per request: CORS preflight (answered by the gateway, as API Gateway does when CORS is
configured), route selection, the JWT authorizer, the 2.0 event, the function, and the 2.0
response mapping. API Gateway's own answers keep its shapes: `{"message": "Not Found"}`,
`{"message": "Unauthorized"}`, `{"message": "Internal Server Error"}` and so on.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from local import apigw
from local.http_routes import RouteMatch, RouteTable
from local.intrinsics import ACCOUNT_ID
from local.jwt_auth import Forbidden, GatewayVerifier, claim_strings, require_scopes, token_scopes
from local.sam import Cors, HttpApi
from local.workers import FunctionPool, Invocation, PayloadTooLarge
from parley.adapters.cognito import InvalidToken

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's HTTP API payload limit
# API Gateway's quota on the request line and header values together. The server parses
# lines up to PARSER_LINE_BYTES (runtime.py) so that a longer request reaches the gateway
# and gets a JSON 413 here, not aiohttp's own text/plain 400.
MAX_REQUEST_HEAD_BYTES = 10_240
PARSER_LINE_BYTES = 64 * 1024

# Framing is the gateway's business; a function's values for these would corrupt the reply.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
_TOKEN_PATH = re.compile(r"^/(hooks|commands)/[^/?]+")
_TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "yaml")


# API.md: every non-2xx reply carries {"error": {code, message}}. API Gateway's own 4xx answers
# cannot be reshaped in AWS (HTTP APIs have no gateway responses); locally they carry
# Parley's `error` object beside API Gateway's `message`, so a client written against the
# contract reads every refusal the same way. 5xx answers keep API Gateway's shape.
_ERROR_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 413: "too_large"}


def _head_bytes(request: web.Request) -> int:
    line = len(request.method) + len(request.raw_path.encode()) + len("HTTP/1.1") + 2
    return line + sum(len(name) + len(value) for name, value in request.raw_headers)


def _message(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    body: dict[str, object] = {"message": message}
    if status in _ERROR_CODES:
        body["error"] = {"code": _ERROR_CODES[status], "message": message}
    return web.json_response(body, status=status, headers=headers)


def loggable_path(raw_path: str) -> str:
    """The path without a webhook's or a response_url's token (the token is the credential,
    and never logged)."""
    return _TOKEN_PATH.sub(r"/\1/***", raw_path)


class CorsPolicy:
    def __init__(self, cors: Cors) -> None:
        self._cors = cors

    def _allowed_origin(self, origin: str | None) -> str | None:
        if origin is None:
            return None
        if "*" in self._cors.allow_origins:
            return "*"
        return origin if origin in self._cors.allow_origins else None

    def preflight(self, request: web.BaseRequest) -> web.Response | None:
        """API Gateway's answer to a CORS preflight, or None if this is not one."""
        headers = request.headers
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in headers:
            return None
        answer: dict[str, str] = {}
        origin = self._allowed_origin(headers.get("Origin"))
        if origin:
            cors = self._cors
            answer["access-control-allow-origin"] = origin
            answer["access-control-allow-methods"] = ",".join(cors.allow_methods)
            if cors.allow_headers:
                answer["access-control-allow-headers"] = ",".join(cors.allow_headers)
            if cors.max_age is not None:
                answer["access-control-max-age"] = str(cors.max_age)
            if cors.allow_credentials:
                answer["access-control-allow-credentials"] = "true"
        return web.Response(status=204, headers=answer)

    def apply(self, request: web.BaseRequest, response: web.StreamResponse) -> None:
        """With CORS configured, API Gateway replaces the integration's CORS headers."""
        for name in [n for n in response.headers if n.lower().startswith("access-control-")]:
            del response.headers[name]
        origin = self._allowed_origin(request.headers.get("Origin"))
        if not origin:
            return
        response.headers["access-control-allow-origin"] = origin
        if self._cors.expose_headers:
            response.headers["access-control-expose-headers"] = ",".join(self._cors.expose_headers)
        if self._cors.allow_credentials:
            response.headers["access-control-allow-credentials"] = "true"


class HttpGateway:
    def __init__(
        self,
        api: HttpApi,
        pools: Mapping[str, FunctionPool],
        verifiers: Mapping[str, GatewayVerifier],
    ) -> None:
        self._api = api
        self._pools = pools
        self._verifiers = verifiers
        self._routes = RouteTable(api.routes)
        self._cors = CorsPolicy(api.cors) if api.cors else None

    def application(self) -> web.Application:
        # aiohttp refuses a body of exactly client_max_size; API Gateway takes 10 MB.
        app = web.Application(client_max_size=MAX_BODY_BYTES + 1)
        # Every path, control characters included: `.` stops at a decoded %0A, and aiohttp
        # would then answer a bare text/plain 404 that API Gateway never gives.
        app.router.add_route("*", r"/{path:[\s\S]*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        rid = apigw.request_id()
        if self._cors and (preflight := self._cors.preflight(request)):
            response = preflight
        else:
            try:
                response = await self._handle(request, rid)
            except Exception:  # the gateway answers every request, whatever went wrong
                path = loggable_path(request.raw_path)
                log.exception("HTTP %s %s failed in the gateway", request.method, path)
                response = _message(500, "Internal Server Error")
            if self._cors:
                self._cors.apply(request, response)
        response.headers["apigw-requestid"] = rid
        log.info(
            "HTTP %s %s -> %d (%.0f ms)",
            request.method,
            loggable_path(request.raw_path),
            response.status,
            (time.monotonic() - started) * 1000,
        )
        return response

    async def _handle(self, request: web.Request, rid: str) -> web.Response:
        try:
            if _head_bytes(request) > MAX_REQUEST_HEAD_BYTES:
                raise _Answer(413, "Request Entity Too Large")
            match = self._routes.match(request.method, request.raw_path.split("?", 1)[0])
            if match is None:
                raise _Answer(404, "Not Found")
            claims = await self._authorize(request, match)
            body = await _read_body(request)
            event = build_event(
                request, match, body, claims=claims, api_id=self._api.api_id, rid=rid
            )
            invocation = await self._invoke(match, event)
        except _Answer as answer:
            return answer.response
        return map_response(invocation)

    async def _authorize(self, request: web.Request, match: RouteMatch) -> dict[str, Any] | None:
        authorizer = match.route.authorizer
        if authorizer is None:
            return None
        try:
            claims = await self._verifiers[authorizer.name].verify(
                request.headers.get(authorizer.header)
            )
            require_scopes(claims, match.route.scopes)
        except InvalidToken:
            raise _Answer(401, "Unauthorized", {"www-authenticate": "Bearer"}) from None
        except Forbidden:
            raise _Answer(403, "Forbidden") from None
        return claims

    async def _invoke(self, match: RouteMatch, event: dict[str, Any]) -> Invocation:
        pool = self._pools[match.route.function]
        try:
            return await asyncio.wait_for(pool.invoke(event), match.route.timeout_s)
        except TimeoutError:
            raise _Answer(503, "Service Unavailable") from None
        except PayloadTooLarge:
            raise _Answer(413, "Request Entity Too Large") from None


class _Answer(Exception):
    """API Gateway answers the request itself, without (or despite) the function."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.response = _message(status, message, headers)


async def _read_body(request: web.Request) -> bytes:
    too_large = _Answer(413, "Request Entity Too Large")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise too_large
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None


def _is_text(content_type: str) -> bool:
    return not content_type or any(marker in content_type.lower() for marker in _TEXT_TYPES)


def build_event(
    request: web.BaseRequest,
    match: RouteMatch,
    body: bytes,
    *,
    claims: Mapping[str, Any] | None,
    api_id: str,
    rid: str,
) -> dict[str, Any]:
    """The payload format 2.0 event of a request."""
    headers: dict[str, str] = {}
    for original_name, value in request.headers.items():
        name = original_name.lower()
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    cookie_header = headers.pop("cookie", "")
    cookies = [c.strip() for c in cookie_header.split(";") if c.strip()]
    raw_path, _, raw_query = request.raw_path.partition("?")
    query: dict[str, str] = {}
    for name, value in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    host = headers.get("host", "")
    now = time.time()
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": raw_path,
            "protocol": f"HTTP/{request.version.major}.{request.version.minor}",
            "sourceIp": request.remote or "",
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": rid,
        "routeKey": match.route.key,
        "stage": "$default",
        "time": apigw.request_time(now),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        context["authorizer"] = {
            "jwt": {"claims": claim_strings(claims), "scopes": token_scopes(claims)}
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if match.path_parameters:
        event["pathParameters"] = match.path_parameters
    if body:
        text = _is_text(headers.get("content-type", ""))
        try:
            event["body"] = body.decode() if text else base64.b64encode(body).decode()
            event["isBase64Encoded"] = not text
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def map_response(invocation: Invocation) -> web.Response:
    """A function's result as API Gateway's HTTP API maps it (payload format 2.0)."""
    if invocation.failed:
        return _message(500, "Internal Server Error")
    result = invocation.payload
    if not (isinstance(result, dict) and "statusCode" in result):
        # No statusCode: the whole result is the JSON body of a 200.
        body = result if isinstance(result, str) else json.dumps(result)
        return web.Response(status=200, text=body, content_type="application/json")
    try:
        status = int(result["statusCode"])
        if not 100 <= status <= 599:
            raise ValueError(status)
        headers = {
            str(name): str(value)
            for name, value in (result.get("headers") or {}).items()
            if str(name).lower() not in _FRAMING_HEADERS
        }
        body_text = result.get("body") or ""
        if not isinstance(body_text, str):
            raise TypeError("body must be a string")
        payload = (
            base64.b64decode(body_text, validate=True)
            if result.get("isBase64Encoded")
            else body_text.encode()
        )
        cookies = [str(cookie) for cookie in result.get("cookies") or ()]
    except (TypeError, ValueError, AttributeError, binascii.Error):
        log.warning("malformed Lambda response: %.200r", result)
        return _message(500, "Internal Server Error")
    response = web.Response(status=status, body=payload, headers=headers)
    if not any(name.lower() == "content-type" for name in headers):
        response.headers["content-type"] = "application/json"
    for cookie in cookies:
        response.headers.add("set-cookie", cookie)
    return response
