"""The WebSocket API and its `@connections` management API, as API Gateway runs them.

Handshake: the `$connect` route's REQUEST authorizer (its identity sources must all be
present), then the `$connect` function; either can refuse. Messages: route selection on
the template's `$request.body.<field>`, each message invoked on its own (a connection's
invocations may overlap, as in AWS), the function's `body` sent back for routes with a
route response. Close: `$disconnect`. Limits: 32 KB frames, 128 KB messages, 10 minutes
idle, 2 hours per connection.

`/<stage>/@connections/<id>` answers POST (send a frame), GET (describe) and DELETE
(close), and 410 GoneException for a connection that is gone, so that functions use
boto3's `apigatewaymanagementapi` client unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from local import apigw
from local.intrinsics import ACCOUNT_ID, REGION
from local.sam import WebSocketApi, WsAuthorizer
from local.workers import FunctionPool, Invocation
from local.ws_frames import MAX_MESSAGE_BYTES, ApiGatewayWebSocket

log = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 10 * 60
MAX_CONNECTION_S = 2 * 60 * 60
GOING_AWAY = b"Going away"


def _message(status: int, message: str, error_type: str | None = None) -> web.Response:
    headers = {"x-amzn-ErrorType": error_type} if error_type else None
    return web.json_response({"message": message}, status=status, headers=headers)


def _iso(epoch_s: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch_s, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ----------------------------------------------------------------------------- pure decisions


def select_route(data: str | bytes, path: Sequence[str], route_keys: Mapping[str, Any]) -> str:
    """The route key for a message: the value at `path` in a JSON body when it names a
    route, `$default` for anything else (binary, not JSON, no such field, unknown route)."""
    if isinstance(data, bytes):
        return "$default"
    try:
        value: Any = json.loads(data)
    except (ValueError, RecursionError):  # a frame of nothing but brackets is no route's
        return "$default"
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    if isinstance(value, str) and not value.startswith("$") and value in route_keys:
        return value
    return "$default"


def _arn_pattern_matches(pattern: str, arn: str) -> bool:
    regex = ".*".join(".".join(map(re.escape, part.split("?"))) for part in pattern.split("*"))
    return re.fullmatch(regex, arn) is not None


@dataclass(frozen=True)
class PolicyDecision:
    status: int  # 200 to connect; otherwise the handshake's refusal
    context: dict[str, Any] = field(default_factory=dict)  # requestContext.authorizer


def evaluate_authorizer(invocation: Invocation, method_arn: str) -> PolicyDecision:
    """A REQUEST authorizer's answer as API Gateway reads it: an error `Unauthorized` is a
    401, a policy that does not allow `execute-api:Invoke` on the method ARN (or denies it)
    is a 403, and anything malformed is a 500."""
    if invocation.failed:
        unauthorized = (invocation.error or {}).get("errorMessage") == "Unauthorized"
        return PolicyDecision(401 if unauthorized else 500)
    try:
        principal, context, statements = _authorizer_answer(invocation.payload)
    except ValueError:
        return PolicyDecision(500)
    effects = {
        statement.get("Effect")
        for statement in statements
        if any(_arn_pattern_matches(a, "execute-api:Invoke") for a in _listed(statement, "Action"))
        and any(_arn_pattern_matches(r, method_arn) for r in _listed(statement, "Resource"))
    }
    if "Allow" not in effects or "Deny" in effects:
        return PolicyDecision(403)
    return PolicyDecision(200, {**context, "principalId": principal})


def _authorizer_answer(answer: Any) -> tuple[str | int, dict[str, Any], list[dict[str, Any]]]:
    """(principalId, context, policy statements); ValueError when the shape is wrong."""
    if not isinstance(answer, dict) or not isinstance(answer.get("principalId"), str | int):
        raise ValueError("an authorizer answers {principalId, policyDocument, context?}")
    context = answer.get("context") or {}
    scalars = (str, int, float, bool)
    if not isinstance(context, dict) or not all(isinstance(v, scalars) for v in context.values()):
        raise ValueError("authorizer context values must be strings, numbers or booleans")
    statements = (answer.get("policyDocument") or {}).get("Statement")
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise ValueError("policyDocument.Statement must be a list of statements")
    return answer["principalId"], context, statements


def _listed(statement: Mapping[str, Any], key: str) -> list[str]:
    value = statement.get(key, [])
    return [value] if isinstance(value, str) else [str(item) for item in value]


def _identity_value(request: web.BaseRequest, source: str) -> str | None:
    kind, _, name = source.removeprefix("route.request.").partition(".")
    if kind == "querystring":
        return request.query.get(name)
    if kind == "header":
        return request.headers.get(name)
    return "present"  # stage variables and context values are always there


def _handshake_parameters(request: web.BaseRequest) -> dict[str, Any]:
    """Headers and query string as the v1-style WebSocket events carry them: the single-value
    maps hold a name's last value, the multi-value maps all of them."""
    parameters: dict[str, Any] = {
        "headers": {name: request.headers.getall(name)[-1] for name in request.headers},
        "multiValueHeaders": {name: request.headers.getall(name) for name in request.headers},
    }
    if request.query:
        parameters["queryStringParameters"] = {
            name: request.query.getall(name)[-1] for name in request.query
        }
        parameters["multiValueQueryStringParameters"] = {
            name: request.query.getall(name) for name in request.query
        }
    return parameters


def _response_frame(payload: Any) -> str | bytes | None:
    """What a route response sends back: the function's `body` (binary when base64)."""
    if not isinstance(payload, dict) or payload.get("body") is None:
        return None
    body = str(payload["body"])
    return base64.b64decode(body) if payload.get("isBase64Encoded") else body


# ------------------------------------------------------------------------------- connections


@dataclass
class Connection:
    id: str
    ws: ApiGatewayWebSocket
    domain_name: str
    source_ip: str
    user_agent: str
    connected_at: float
    authorizer: dict[str, Any]
    last_active_at: float = 0.0
    closing: bool = False

    async def send(self, frame: str | bytes) -> bool:
        """False when the connection can no longer take frames."""
        if self.closing or self.ws.closed:
            return False
        try:
            if isinstance(frame, bytes):
                await self.ws.send_bytes(frame)
            else:
                await self.ws.send_str(frame)
        except (ConnectionError, RuntimeError):
            return False
        return True


class StandInConnection(Connection):
    """A connection without a socket, for fan-out tests and benchmarks at scale: what
    @connections posts to it is kept in `frames`; `gone()` makes it answer 410 from then
    on, as a client that went away without a `$disconnect` (its items stay in the table
    until a post prunes them). No `$connect` runs: the caller writes its items itself."""

    def __init__(self, cid: str) -> None:
        super().__init__(
            id=cid,
            ws=None,  # type: ignore[arg-type]  # never read: send is its own
            domain_name="stand-in",
            source_ip="127.0.0.1",
            user_agent="stand-in",
            connected_at=time.time(),
            authorizer={},
        )
        self.frames: list[str | bytes] = []

    async def send(self, frame: str | bytes) -> bool:
        if self.closing:
            return False
        self.frames.append(frame)
        return True

    def gone(self) -> None:
        self.closing = True


class WebSocketGateway:
    def __init__(
        self,
        api: WebSocketApi,
        pools: Mapping[str, FunctionPool],
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        max_connection_s: float = MAX_CONNECTION_S,
    ) -> None:
        self._api = api
        self._pools = pools
        self._idle_timeout_s = idle_timeout_s
        self._max_connection_s = max_connection_s
        self._connections: dict[str, Connection] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def application(self) -> web.Application:
        # PostToConnection takes up to 128 KB (aiohttp refuses a body of exactly the limit).
        app = web.Application(client_max_size=MAX_MESSAGE_BYTES + 1)
        app.router.add_route("*", "/{path:.*}", self.handle)
        return app

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception():
            log.error("WebSocket work failed", exc_info=task.exception())

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            path = request.raw_path.split("?", 1)[0]
            parts = path.split("/")
            if len(parts) == 4 and parts[2] == "@connections":
                return await self._manage(request, parts[1], urllib.parse.unquote(parts[3]))
            is_upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
            if is_upgrade and path in ("/", f"/{self._api.stage}"):
                return await self._connect(request)
            return _message(403, "Forbidden")
        except Exception:  # bad input or a bug: answer, never take the gateway down
            log.exception("WebSocket gateway failed on %s %s", request.method, request.raw_path)
            return _message(500, "Internal server error")

    def stand_in(self, connection_ids: Sequence[str]) -> dict[str, StandInConnection]:
        """Connections without sockets under these ids (`StandInConnection`)."""
        made = {cid: StandInConnection(cid) for cid in connection_ids}
        self._connections.update(made)
        return made

    async def drop_all(self) -> int:
        """Closes every connection as a network drop would end it for the client (1006 is
        not a code a server can send; 1001 `going away` is what API Gateway sends when it
        closes one); their `$disconnect` runs. How many were open."""
        open_connections = [c for c in self._connections.values() if hasattr(c, "ws")]
        await asyncio.gather(
            *(
                c.ws.close(code=WSCloseCode.GOING_AWAY, message=GOING_AWAY)
                for c in open_connections
            ),
            return_exceptions=True,
        )
        return len(open_connections)

    async def close_all(self) -> None:
        """Closes every connection (each then runs `$disconnect`) and waits for its work."""
        await asyncio.gather(
            *(
                c.ws.close(code=WSCloseCode.GOING_AWAY, message=GOING_AWAY)
                for c in list(self._connections.values())
                if not isinstance(c, StandInConnection)
            ),
            return_exceptions=True,
        )
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    # ------------------------------------------------------------------------------ events

    def _context(
        self,
        rid: str,
        connection: str,
        *,
        connected_at: float,
        domain: str,
        ip: str,
        agent: str,
    ) -> dict[str, Any]:
        now = time.time()
        return {
            "extendedRequestId": rid,
            "requestTime": apigw.request_time(now),
            "messageDirection": "IN",
            "stage": self._api.stage,
            "connectedAt": int(connected_at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": ip, "userAgent": agent},
            "requestId": rid,
            "domainName": domain,
            "connectionId": connection,
            "apiId": self._api.api_id,
        }

    def _connection_context(self, conn: Connection, rid: str) -> dict[str, Any]:
        context = self._context(
            rid,
            conn.id,
            connected_at=conn.connected_at,
            domain=conn.domain_name,
            ip=conn.source_ip,
            agent=conn.user_agent,
        )
        if conn.authorizer:
            context["authorizer"] = conn.authorizer
        return context

    # ----------------------------------------------------------------------------- connect

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        cid, rid, connected_at = apigw.connection_id(), apigw.request_id(), time.time()
        context = self._context(
            rid,
            cid,
            connected_at=connected_at,
            domain=request.host,
            ip=request.remote or "",
            agent=request.headers.get("User-Agent", ""),
        )
        context.update(routeKey="$connect", eventType="CONNECT")
        admission = await self._admit(request, _handshake_parameters(request), context)
        if isinstance(admission, web.Response):
            return admission
        authorizer_context, protocols = admission
        ws = ApiGatewayWebSocket(protocols)
        conn = Connection(
            id=cid,
            ws=ws,
            domain_name=request.host,
            source_ip=request.remote or "",
            user_agent=request.headers.get("User-Agent", ""),
            connected_at=connected_at,
            authorizer=authorizer_context,
            last_active_at=connected_at,
        )
        try:
            await ws.prepare(request)
        except ConnectionResetError:
            # The client gave up while $connect ran: the connection never opened, but
            # $connect did, and $disconnect undoes what it recorded.
            log.info("WebSocket client left before its handshake completed (%s)", cid)
            conn.closing = True
            await self._disconnect(conn)
            return ws  # unprepared: aiohttp sees a client that has gone
        self._connections[cid] = conn
        try:
            await self._receive(conn)
        except Exception:  # the handshake is done: log, close, and still run $disconnect
            log.exception("WebSocket connection %s failed", cid)
            await ws.close(code=WSCloseCode.INTERNAL_ERROR)
        finally:
            conn.closing = True
            self._connections.pop(cid, None)
            await self._disconnect(conn)
        return ws

    async def _admit(
        self, request: web.Request, parameters: Mapping[str, Any], context: Mapping[str, Any]
    ) -> web.Response | tuple[dict[str, Any], tuple[str, ...]]:
        """Runs the `$connect` authorizer and function: a refusal, or the authorizer's
        context and the subprotocol to accept."""
        route = self._api.routes.get("$connect")
        if route is None:
            return {}, ()
        authorizer_context: dict[str, Any] = {}
        if route.authorizer:
            decision = await self._authorize(request, route.authorizer, parameters, context)
            if decision.status != 200:
                return _refusal(decision.status)
            authorizer_context = decision.context
        event = {
            **parameters,
            "requestContext": {
                **context,
                **({"authorizer": authorizer_context} if authorizer_context else {}),
            },
            "isBase64Encoded": False,
        }
        invocation = await self._pools[route.function].invoke(event)
        status = _connect_status(invocation)
        if not 200 <= status < 300:
            return _refusal(status if 400 <= status <= 599 else 500)
        return authorizer_context, _subprotocol(invocation.payload)

    async def _authorize(
        self,
        request: web.Request,
        authorizer: WsAuthorizer,
        parameters: Mapping[str, Any],
        context: Mapping[str, Any],
    ) -> PolicyDecision:
        if not all(_identity_value(request, source) for source in authorizer.identity_sources):
            return PolicyDecision(401)
        api = self._api
        method_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api.api_id}/{api.stage}/$connect"
        event = {
            "type": "REQUEST",
            "methodArn": method_arn,
            **parameters,
            "queryStringParameters": parameters.get("queryStringParameters", {}),
            "multiValueQueryStringParameters": parameters.get(
                "multiValueQueryStringParameters", {}
            ),
            "stageVariables": {},
            "requestContext": dict(context),
        }
        return evaluate_authorizer(await self._pools[authorizer.function].invoke(event), method_arn)

    # ----------------------------------------------------------------------------- messages

    async def _receive(self, conn: Connection) -> None:
        ws, ends_at = conn.ws, conn.connected_at + self._max_connection_s
        while True:
            timeout = min(self._idle_timeout_s, ends_at - time.time())
            try:
                if timeout <= 0:
                    raise TimeoutError
                message = await ws.receive(timeout=timeout)
            except TimeoutError:
                await ws.close(code=WSCloseCode.GOING_AWAY, message=GOING_AWAY)
                return
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                conn.last_active_at = time.time()
                self._spawn(self._on_message(conn, message.data))
            elif message.type in (
                WSMsgType.CLOSE,
                WSMsgType.CLOSING,
                WSMsgType.CLOSED,
                WSMsgType.ERROR,
            ):
                return

    async def _on_message(self, conn: Connection, data: str | bytes) -> None:
        rid = apigw.request_id()
        route = self._api.routes.get(
            select_route(data, self._api.body_selection_path, self._api.routes)
        )
        if route is None:  # no route matched and no $default
            await conn.send(
                json.dumps({"message": "Forbidden", "connectionId": conn.id, "requestId": rid})
            )
            return
        context = self._connection_context(conn, rid)
        context.update(routeKey=route.key, eventType="MESSAGE", messageId=apigw.request_id())
        event = {
            "requestContext": context,
            "body": base64.b64encode(data).decode() if isinstance(data, bytes) else data,
            "isBase64Encoded": isinstance(data, bytes),
        }
        invocation = await self._pools[route.function].invoke(event)
        if invocation.failed:
            error = {"message": "Internal server error", "connectionId": conn.id, "requestId": rid}
            await conn.send(json.dumps(error))
        elif route.returns_response and (frame := _response_frame(invocation.payload)) is not None:
            await conn.send(frame)

    async def _disconnect(self, conn: Connection) -> None:
        route = self._api.routes.get("$disconnect")
        if route is None:
            return
        context = self._connection_context(conn, apigw.request_id())
        context.update(
            routeKey="$disconnect",
            eventType="DISCONNECT",
            disconnectStatusCode=conn.ws.close_code or WSCloseCode.ABNORMAL_CLOSURE,
            disconnectReason="",
        )
        event = {
            "headers": {"Host": conn.domain_name},
            "requestContext": context,
            "isBase64Encoded": False,
        }
        invocation = await self._pools[route.function].invoke(event)
        if invocation.failed:
            log.warning("$disconnect of %s failed: %s", conn.id, invocation.error)

    # -------------------------------------------------------------------------- @connections

    async def _manage(self, request: web.Request, stage: str, cid: str) -> web.Response:
        if "Authorization" not in request.headers:
            return _message(403, "Missing Authentication Token")
        operations = {
            "POST": self._post_to_connection,
            "GET": self._get_connection,
            "DELETE": self._delete_connection,
        }
        operation = operations.get(request.method)
        if stage != self._api.stage or operation is None:
            return _message(403, "Forbidden")
        conn = self._connections.get(cid)
        if conn is None or conn.closing:
            return _gone(cid)
        return await operation(request, conn)

    async def _post_to_connection(self, request: web.Request, conn: Connection) -> web.Response:
        try:
            data = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _message(413, "Message too long", "PayloadTooLargeException")
        try:
            frame: str | bytes = data.decode()
        except UnicodeDecodeError:
            frame = data
        return web.Response(status=200) if await conn.send(frame) else _gone(conn.id)

    async def _get_connection(self, request: web.Request, conn: Connection) -> web.Response:
        # The wire names; boto3 presents them as ConnectedAt, Identity.SourceIp, ...
        return web.json_response(
            {
                "connectedAt": _iso(conn.connected_at),
                "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
                "lastActiveAt": _iso(conn.last_active_at),
            }
        )

    async def _delete_connection(self, request: web.Request, conn: Connection) -> web.Response:
        conn.closing = True
        if not isinstance(conn, StandInConnection):
            self._spawn(_close(conn.ws))
        return web.Response(status=204)


def _gone(cid: str) -> web.Response:
    return _message(410, f"Connection {cid} is gone", "GoneException")


async def _close(ws: ApiGatewayWebSocket) -> None:
    await ws.close(code=WSCloseCode.OK)


def _refusal(status: int) -> web.Response:
    messages = {401: "Unauthorized", 403: "Forbidden"}
    return _message(status, messages.get(status, "Internal server error"))


def _connect_status(invocation: Invocation) -> int:
    """`$connect` accepts with a 2xx; a result without statusCode counts as 200."""
    if invocation.failed:
        return 500
    payload = invocation.payload
    if isinstance(payload, dict) and "statusCode" in payload:
        try:
            return int(payload["statusCode"])
        except (TypeError, ValueError):
            return 500
    return 200


def _subprotocol(payload: Any) -> tuple[str, ...]:
    """API Gateway completes a subprotocol handshake only when `$connect` names it."""
    headers = payload.get("headers") if isinstance(payload, dict) else None
    if not isinstance(headers, dict):
        return ()
    chosen = {str(k).lower(): v for k, v in headers.items()}.get("sec-websocket-protocol")
    return (str(chosen),) if chosen else ()
