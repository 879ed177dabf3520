"""A terminal client for Parley: log in, watch the events that arrive, send messages.

It talks to a stack only through the public API (API.md): Cognito's InitiateAuth, the HTTP
API and the WebSocket. Against `make up` it reads `.local/stack.json` and logs in as a
demo user:

    python -m local.client                          # interactive, as alice, in #general
    python -m local.client --user bob --channel random
    python -m local.client --user bob --send "hi"   # send one message, wait for the ack
    python -m local.client --watch --count 3        # print 3 events, then exit

Interactive input: plain text goes to the current channel; `/join NAME` joins (or creates)
a channel and makes it current; `/channel NAME` switches; `/help`; `/quit` (or Ctrl-D).
A line starting with `//` sends the rest with a single leading `/`.

Exit status: 0 when done, 1 when something failed (login, connection, a refused send),
2 on a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

import boto3
import requests
from botocore.exceptions import BotoCoreError
from botocore.exceptions import ClientError as BotoClientError
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException

DEFAULT_STACK_FILE = Path(".local/stack.json")
DEFAULT_CHANNEL = "general"
CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
HEARTBEAT_SECONDS = 240  # below API Gateway's 10-minute idle timeout; keeps presence active
HEARTBEAT_ID_PREFIX = "hb-"
ACK_GRACE_SECONDS = 3.0
PAGE_LIMIT = 200
RAW_FRAME_LIMIT = 200
HELP = (
    "type a message and press Enter to send it to the current channel; "
    "/join NAME, /channel NAME, /help, /quit"
)


class ClientError(Exception):
    """Something the person should read, one line, no traceback."""


# ------------------------------------------------------------------ the stack


@dataclass(frozen=True)
class Stack:
    """Where a stack's public endpoints are: `.local/stack.json` (API.md, Finding the stack)."""

    region: str
    http_url: str
    ws_url: str
    user_pool_id: str
    client_id: str
    cognito_endpoint: str | None = None  # None: the real Cognito of `region`
    demo_password: str | None = None
    demo_users: tuple[str, ...] = ()
    demo_workspace_id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Stack:
        try:
            cognito, demo = data["cognito"], data.get("demo") or {}
            return cls(
                region=data["region"],
                http_url=data["httpUrl"].rstrip("/"),
                ws_url=data["wsUrl"].rstrip("/"),
                user_pool_id=cognito["userPoolId"],
                client_id=cognito["clientId"],
                cognito_endpoint=cognito.get("endpoint"),
                demo_password=demo.get("password"),
                demo_users=tuple(demo.get("users", ())),
                demo_workspace_id=demo.get("workspaceId"),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ClientError(f"the stack file lacks {error}; see API.md") from error


def load_stack(path: Path) -> Stack:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ClientError(f"{path} not found: start the stack with `make up` first") from error
    except json.JSONDecodeError as error:
        raise ClientError(f"{path} is not JSON: {error}") from error
    return Stack.from_json(data)


def websocket_url(base: str, token: str, workspace_id: str) -> str:
    return f"{base}?{urlencode({'token': token, 'workspaceId': workspace_id})}"


# ------------------------------------------------------------------ commands


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class Join:
    name: str


@dataclass(frozen=True)
class SwitchChannel:
    name: str


@dataclass(frozen=True)
class Quit:
    pass


@dataclass(frozen=True)
class ShowHelp:
    pass


@dataclass(frozen=True)
class Invalid:
    reason: str


Command = Say | Join | SwitchChannel | Quit | ShowHelp | Invalid


def _channel_command(kind: type[Join] | type[SwitchChannel], argument: str) -> Command:
    name = argument.strip().removeprefix("#")
    verb = "/join" if kind is Join else "/channel"
    if not name:
        return Invalid(f"{verb} needs a channel name")
    if not CHANNEL_NAME.match(name):
        return Invalid(f"{name!r} is not a channel name (1-80 of a-z 0-9 - _)")
    return kind(name)


def _join(argument: str) -> Command:
    return _channel_command(Join, argument)


def _switch(argument: str) -> Command:
    return _channel_command(SwitchChannel, argument)


_VERBS: dict[str, Callable[[str], Command]] = {
    **dict.fromkeys(("join", "j"), _join),
    **dict.fromkeys(("channel", "c"), _switch),
    **dict.fromkeys(("quit", "q", "exit"), lambda _: Quit()),
    **dict.fromkeys(("help", "h", "?"), lambda _: ShowHelp()),
}


def parse_command(line: str) -> Command | None:
    """What a typed line asks for; None for a blank line."""
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    if text.startswith("//"):
        return Say(text[1:])
    if not text.startswith("/"):
        return Say(text)
    verb, _, argument = text[1:].partition(" ")
    action = _VERBS.get(verb.lower())
    return action(argument) if action else Invalid(f"unknown command /{verb}; {HELP}")


# ------------------------------------------------------------------ showing events


@dataclass
class Directory:
    """Names for the ids that events carry, learnt from the API and from events."""

    channels: dict[str, str] = field(default_factory=dict)  # id -> name
    users: dict[str, str] = field(default_factory=dict)  # id -> display name

    def channel(self, channel_id: Any) -> str:
        name = self.channels.get(str(channel_id))
        return f"#{name}" if name else str(channel_id)

    def user(self, user_id: Any) -> str:
        return self.users.get(str(user_id), str(user_id))

    def learn(self, event: Mapping[str, Any]) -> None:
        channel = event.get("channel")
        if isinstance(channel, Mapping) and "id" in channel and "name" in channel:
            self.channels[str(channel["id"])] = str(channel["name"])


_MENTION = re.compile(r"<@([^>|]+)(?:\|[^>]*)?>|<!(here|channel|everyone)>")


def render_text(text: str, names: Directory) -> str:
    """Slack markup as a person reads it, on one line: <@id> -> @name, <!here> -> @here."""

    def mention(match: re.Match[str]) -> str:
        return f"@{names.user(match[1])}" if match[1] else f"@{match[2]}"

    return _MENTION.sub(mention, text).replace("\r\n", "\n").replace("\n", " ↵ ")


def _ts_time(ts: Any) -> str:
    try:
        return datetime.fromtimestamp(float(ts), UTC).astimezone().strftime("%H:%M")
    except (TypeError, ValueError, OverflowError):
        return "--:--"


def _message_line(event: Mapping[str, Any], names: Directory) -> str:
    message = event["message"]
    where = names.channel(event.get("channelId") or message.get("channelId"))
    thread = message.get("threadTs")
    in_thread = f" (thread {thread})" if thread and thread != message.get("ts") else ""
    edited = " (edited)" if event.get("type") == "message_changed" else ""
    files = len(message.get("files") or [])
    attached = f" [{files} file{'s' if files != 1 else ''}]" if files else ""
    text = render_text(str(message.get("text", "")), names)
    author = names.user(message.get("userId"))
    return f"{_ts_time(message.get('ts'))} {where} {author}{in_thread}{edited}: {text}{attached}"


def _channel_line(event: Mapping[str, Any], _: Directory) -> str:
    channel = event["channel"]
    verb = "created" if event.get("type") == "channel_created" else "changed"
    topic = f" (topic: {channel['topic']})" if channel.get("topic") else ""
    return f"channel #{channel['name']} {verb}{topic}"


def _notification_line(event: Mapping[str, Any], names: Directory) -> str:
    note = event["notification"]
    sender = names.user(note.get("userId"))
    where = f" in {names.channel(note['channelId'])}" if note.get("channelId") else ""
    at = f" ({note['ts']})" if note.get("ts") else ""
    if note.get("type") == "dm":
        return f"notification: direct message from {sender}{where}{at}"
    return f"notification: {sender} mentioned you{where}{at}"


def _ack_line(event: Mapping[str, Any], names: Directory) -> str:
    message, command = event.get("message"), event.get("command")
    if event.get("ok") and isinstance(command, Mapping):
        reply = command.get("replyText") or "(the app answered nothing)"
        return f"{command.get('command')}: {render_text(str(reply), names)}"
    if event.get("ok") and isinstance(message, Mapping):
        where, text = names.channel(message.get("channelId")), message.get("text", "")
        return f"sent to {where}: {render_text(str(text), names)} (ts {message.get('ts')})"
    return f"not sent: {_error_text(event.get('error'))}"


def _error_line(event: Mapping[str, Any], _: Directory) -> str:
    reply = f" (reply to {event['replyTo']})" if event.get("replyTo") else ""
    return f"error{reply}: {_error_text(event.get('error'))}"


def _error_text(error: Any) -> str:
    if isinstance(error, Mapping):
        return f"{error.get('code', 'error')}: {error.get('message', '')}".rstrip(": ")
    return str(error)


def _in_channel(template: str) -> Callable[[Mapping[str, Any], Directory], str]:
    """A line about a channel: `{where}`, `{who}` and the event's own fields filled in."""

    def line(event: Mapping[str, Any], names: Directory) -> str:
        fields = {key: event.get(key, "") for key in ("ts", "name", "presence")}
        thread = event.get("threadTs")
        return template.format(
            where=names.channel(event.get("channelId")),
            who=names.user(event.get("userId")),
            thread=f" in thread {thread}" if thread else "",
            **fields,
        )

    return line


def _in_channel_text(template: str) -> Callable[[Mapping[str, Any], Directory], str]:
    def line(event: Mapping[str, Any], names: Directory) -> str:
        text = render_text(str(event.get("text", "")), names)
        return template.format(where=names.channel(event.get("channelId")), text=text)

    return line


_LINES: dict[str, Callable[[Mapping[str, Any], Directory], str]] = {
    "message": _message_line,
    "message_changed": _message_line,
    "message_deleted": _in_channel("{where} message {ts} deleted"),
    "reaction_added": _in_channel("{where} {who} reacted :{name}: to {ts}"),
    "reaction_removed": _in_channel("{where} {who} removed :{name}: from {ts}"),
    "user_typing": _in_channel("{where} {who} is typing{thread}..."),
    "presence_change": _in_channel("{who} is {presence}"),
    "member_joined_channel": _in_channel("{where} {who} joined"),
    "member_left_channel": _in_channel("{where} {who} left"),
    "channel_created": _channel_line,
    "channel_changed": _channel_line,
    "channel_marked": _in_channel("{where} read up to {ts}"),
    "pin_added": _in_channel("{where} {who} pinned {ts}"),
    "pin_removed": _in_channel("{where} {who} unpinned {ts}"),
    "notification": _notification_line,
    "ephemeral_message": _in_channel_text("{where} (only you see this) {text}"),
    "ack": _ack_line,
    "pong": lambda _event, _names: "pong",
    "error": _error_line,
}


def _raw(event: Mapping[str, Any]) -> str:
    text = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= RAW_FRAME_LIMIT else text[: RAW_FRAME_LIMIT - 1] + "…"


def format_event(event: Mapping[str, Any], names: Directory) -> str:
    """One readable line for a frame the server sent; a frame of an unknown type, or not
    shaped as API.md says, is shown as compact JSON."""
    kind = event.get("type")
    line = _LINES.get(str(kind))
    if line is not None:
        with contextlib.suppress(KeyError, TypeError, AttributeError):
            return line(event, names)
    return f"{kind or 'frame'}: {_raw(event)}"


def decode_frame(raw: str | bytes) -> dict[str, Any]:
    """A server frame as a dict; anything that is not a JSON object is shown as it came."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        frame = json.loads(text)
    except json.JSONDecodeError:
        return {"type": "unreadable", "text": text}
    return frame if isinstance(frame, dict) else {"type": "unreadable", "text": text}


def is_quiet(frame: Mapping[str, Any]) -> bool:
    """Frames the client caused itself and does not show: pongs to its heartbeats."""
    reply = frame.get("replyTo")
    return frame.get("type") == "pong" and str(reply).startswith(HEARTBEAT_ID_PREFIX)


def send_message_frame(frame_id: str, channel_id: str, text: str) -> str:
    return json.dumps(
        {
            "action": "sendMessage",
            "id": frame_id,
            "channelId": channel_id,
            "text": text,
            "clientMsgId": str(uuid.uuid4()),
        }
    )


# ------------------------------------------------------------------ the public API


def login(stack: Stack, username: str, password: str) -> str:
    """Cognito USER_PASSWORD_AUTH; returns the ID token (it carries email and name)."""
    cognito = boto3.client(
        "cognito-idp",
        region_name=stack.region,
        endpoint_url=stack.cognito_endpoint,
        # The local pool takes any credentials; InitiateAuth is unsigned in AWS anyway.
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 -- moto's placeholder, not a secret
    )
    try:
        reply = cognito.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH",
            ClientId=stack.client_id,
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except (BotoClientError, BotoCoreError) as error:
        raise ClientError(f"login as {username} failed: {error}") from error
    token = (reply.get("AuthenticationResult") or {}).get("IdToken")
    if not token:
        challenge = reply.get("ChallengeName", "no token")
        raise ClientError(f"login as {username} needs {challenge}; finish it in Cognito first")
    return token


class HttpApi:
    """The few HTTP routes the client needs, with the caller's token."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 10.0) -> None:
        self._base = base_url
        self._timeout = timeout_s
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        try:
            reply = self._session.request(
                method, self._base + path, json=body, params=params or None, timeout=self._timeout
            )
        except requests.RequestException as error:
            raise ClientError(f"{method} {path}: {error}") from error
        if reply.status_code >= 400:
            try:
                detail = _error_text(reply.json().get("error"))
            except (ValueError, AttributeError):
                detail = reply.text[:200]
            raise ClientError(f"{method} {path}: {reply.status_code} {detail}")
        return reply.json() if reply.content else None

    def _all(self, path: str, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": PAGE_LIMIT} | ({"cursor": cursor} if cursor else {})
            page = self._call("GET", path, **params)
            items.extend(page.get(key) or [])
            cursor = page.get("nextCursor")
            if not cursor:
                return items

    def channels(self, workspace_id: str) -> list[dict[str, Any]]:
        return self._all(f"/workspaces/{workspace_id}/channels", "channels")

    def members(self, workspace_id: str) -> list[dict[str, Any]]:
        return self._all(f"/workspaces/{workspace_id}/members", "members")

    def join(self, channel_id: str) -> dict[str, Any]:
        channel: dict[str, Any] = self._call("POST", f"/channels/{channel_id}/join")["channel"]
        return channel

    def create_channel(self, workspace_id: str, name: str) -> dict[str, Any]:
        path = f"/workspaces/{workspace_id}/channels"
        channel: dict[str, Any] = self._call("POST", path, {"name": name})["channel"]
        return channel


def find_channel(channels: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    wanted = name.removeprefix("#")
    return next((c for c in channels if c.get("name") == wanted), None)


def directory_from(
    channels: Sequence[Mapping[str, Any]], members: Sequence[Mapping[str, Any]]
) -> Directory:
    names = Directory()
    for channel in channels:
        names.learn({"channel": channel})
    for member in members:
        user = member.get("user") if isinstance(member.get("user"), Mapping) else member
        if user and user.get("id"):
            names.users[str(user["id"])] = str(user.get("name") or user["id"])
    return names


# ------------------------------------------------------------------ sessions

Send = Callable[[str], Awaitable[None]]


def _show(line: str, out: TextIO) -> None:
    print(line, file=out, flush=True)


async def watch(
    frames: AsyncIterator[str | bytes], names: Directory, count: int, out: TextIO
) -> int:
    """Print frames until `count` have arrived (0: until the connection closes)."""
    seen = 0
    async for raw in frames:
        frame = decode_frame(raw)
        names.learn(frame)
        _show(format_event(frame, names), out)
        seen += 1
        if count and seen >= count:
            return 0
    if count:
        _show(f"the connection closed after {seen} of {count} events", sys.stderr)
        return 1
    return 0


async def send_once(
    frames: AsyncIterator[str | bytes],
    send: Send,
    *,
    channel_id: str,
    text: str,
    names: Directory,
    out: TextIO,
) -> int:
    """Send one message and print what arrives until its ack (or error) comes back."""
    frame_id = f"send-{uuid.uuid4().hex[:8]}"
    await send(send_message_frame(frame_id, channel_id, text))
    async for raw in frames:
        frame = decode_frame(raw)
        names.learn(frame)
        _show(format_event(frame, names), out)
        if frame.get("replyTo") == frame_id:
            return 0 if frame.get("type") == "ack" and frame.get("ok") else 1
    _show("the connection closed before the message was acknowledged", sys.stderr)
    return 1


@dataclass
class Conversation:
    """The interactive session's state: who, where, and the names it knows."""

    api: HttpApi
    workspace_id: str
    channel_id: str
    names: Directory
    sent: int = 0
    unanswered: set[str] = field(default_factory=set)  # ids of frames awaiting ack or error

    def refresh(self) -> list[dict[str, Any]]:
        channels = self.api.channels(self.workspace_id)
        for channel in channels:
            self.names.learn({"channel": channel})
        return channels

    def next_id(self) -> str:
        self.sent += 1
        self.unanswered.add(f"m{self.sent}")
        return f"m{self.sent}"

    def received(self, frame: Mapping[str, Any]) -> None:
        self.names.learn(frame)
        self.unanswered.discard(str(frame.get("replyTo")))

    async def settle(self, timeout_s: float) -> None:
        """Wait a moment for the answers to what was sent, so /quit loses no ack."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while self.unanswered:
                    await asyncio.sleep(0.05)

    async def handle(self, command: Command, send: Send, out: TextIO) -> bool:
        """Carry out one command; False when the person is done."""
        match command:
            case Quit():
                return False
            case ShowHelp():
                _show(HELP, out)
            case Invalid(reason):
                _show(reason, out)
            case Say(text):
                await send(send_message_frame(self.next_id(), self.channel_id, text))
            case Join(name) | SwitchChannel(name):
                try:
                    await asyncio.to_thread(self._go_to, command, name, out)
                except ClientError as error:
                    _show(str(error), out)
        return True

    def _go_to(self, command: Command, name: str, out: TextIO) -> None:
        channel = find_channel(self.refresh(), name)
        if isinstance(command, SwitchChannel):
            if channel is None:
                raise ClientError(f"no channel #{name} you can see; /join {name} creates it")
        elif channel is None:
            channel = self.api.create_channel(self.workspace_id, name)
            self.names.learn({"channel": channel})
            _show(f"created #{name}", out)
        elif not channel.get("isMember"):
            channel = self.api.join(str(channel["id"]))
            _show(f"joined #{name}", out)
        self.channel_id = str(channel["id"])
        _show(f"now in #{name}", out)


def _read_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Blocking stdin reads on a daemon thread, so a closed socket never waits for Enter."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line)
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def _heartbeat(send: Send) -> None:
    beat = 0
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        beat += 1
        await send(json.dumps({"action": "ping", "id": f"{HEARTBEAT_ID_PREFIX}{beat}"}))


async def interactive(
    frames: AsyncIterator[str | bytes], send: Send, conversation: Conversation, out: TextIO
) -> int:
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    threading.Thread(
        target=_read_lines, args=(asyncio.get_running_loop(), queue), daemon=True
    ).start()

    async def show_frames() -> None:
        async for raw in frames:
            frame = decode_frame(raw)
            conversation.received(frame)
            if not is_quiet(frame):
                _show(format_event(frame, conversation.names), out)
        _show("the server closed the connection", out)

    async def read_commands() -> None:
        while (line := await queue.get()) is not None:
            command = parse_command(line)
            if command is not None and not await conversation.handle(command, send, out):
                break
        await conversation.settle(ACK_GRACE_SECONDS)

    tasks = [asyncio.create_task(c) for c in (show_frames(), read_commands(), _heartbeat(send))]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    for task in done:
        task.result()
    return 0


# ------------------------------------------------------------------ command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.client",
        description="Parley in a terminal: log in, watch events, send messages.",
    )
    parser.add_argument("--stack", type=Path, default=DEFAULT_STACK_FILE, help="stack file")
    parser.add_argument("--user", help="who to log in as (default: the first demo user)")
    parser.add_argument("--password", help="default: the demo password in the stack file")
    parser.add_argument("--workspace", help="workspace id (default: the demo workspace)")
    parser.add_argument("--channel", default=DEFAULT_CHANNEL, help="channel name for messages")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--send", metavar="TEXT", help="send one message and exit")
    mode.add_argument("--watch", action="store_true", help="only print events")
    parser.add_argument("--count", type=int, default=0, help="with --watch: exit after N events")
    parser.add_argument(
        "--timeout",
        type=float,
        help="seconds before giving up (default: 10 for --send, none for --watch and interactive)",
    )
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must be 0 or more")
    if args.count and not args.watch:
        parser.error("--count goes with --watch")
    if args.timeout is None and args.send is not None:
        args.timeout = 10.0
    return args


@dataclass(frozen=True)
class Identity:
    user: str
    password: str
    workspace_id: str


def identity(stack: Stack, args: argparse.Namespace) -> Identity:
    user = args.user or (stack.demo_users[0] if stack.demo_users else None)
    password = args.password or stack.demo_password
    workspace_id = args.workspace or stack.demo_workspace_id
    if not user or not password or not workspace_id:
        raise ClientError("this stack has no demo data: pass --user, --password and --workspace")
    return Identity(user, password, workspace_id)


async def run(args: argparse.Namespace, out: TextIO) -> int:
    stack = load_stack(args.stack)
    who = identity(stack, args)
    token = await asyncio.to_thread(login, stack, who.user, who.password)
    api = HttpApi(stack.http_url, token)
    channels = await asyncio.to_thread(api.channels, who.workspace_id)
    members = await asyncio.to_thread(api.members, who.workspace_id)
    names = directory_from(channels, members)
    channel = find_channel(channels, args.channel)
    if channel is None and not args.watch:
        known = ", ".join(sorted(f"#{c.get('name')}" for c in channels)) or "none"
        raise ClientError(f"no channel #{args.channel} in {who.workspace_id} (you see: {known})")
    try:
        async with connect(websocket_url(stack.ws_url, token, who.workspace_id)) as socket:
            frames = aiter(socket)
            async with asyncio.timeout(args.timeout):
                if args.watch:
                    return await watch(frames, names, args.count, out)
                assert channel is not None
                if args.send is not None:
                    return await send_once(
                        frames,
                        socket.send,
                        channel_id=str(channel["id"]),
                        text=args.send,
                        names=names,
                        out=out,
                    )
                _show(f"{who.user} in {names.channel(channel['id'])}; {HELP}", out)
                conversation = Conversation(api, who.workspace_id, str(channel["id"]), names)
                return await interactive(frames, socket.send, conversation, out)
    except TimeoutError:
        raise
    except InvalidStatus as error:
        status = error.response.status_code
        raise ClientError(
            f"the WebSocket refused {who.user} (HTTP {status}): a bad token, "
            f"or not a member of {who.workspace_id}"
        ) from error
    except (OSError, WebSocketException) as error:
        raise ClientError(f"WebSocket {stack.ws_url}: {error}") from error


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args, sys.stdout))
    except ClientError as error:
        print(f"parley: {error}", file=sys.stderr)
        return 1
    except TimeoutError:
        print(f"parley: timed out after {args.timeout:g} s", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
