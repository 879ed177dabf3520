"""Slack's `chat.postMessage` (`POST /api/chat.postMessage`, SlackApiFunction) beside Parley's
own post (`POST /channels/{cid}/messages`, ApiFunction): the same text to the same channel,
with the same members and live connections, in the same run.

Both handlers run in this process on moto, from the repository's sample events, with
@connections recorded (as bench/fanout.py and cost.py run the domain), so the times compare
code paths and request patterns, not AWS latencies. What a deployed stack pays per post is
counted on each path: Lambda invocations (an authorizer that is a function would add one; the
template says which the route has), DynamoDB requests and their read and write units
(bench/capacity.py), frames sent, and the bytes in and out, including what the handler
writes to its log (CloudWatch Logs is billed by the byte).

The paths differ by what the gateway does before the function runs: the native route's JWT
is checked by API Gateway's JWT authorizer (no invocation, no table read), while Slack's
route has no authorizer and the function looks the bot token up with one GetItem per call
(no cache across requests, so that a revoked token stops working at once).

The runs are interleaved, one post on each path a round, which path goes first alternating,
and each path's figure is the median of its rounds. A bot may send one message a second in a
channel (parley.domain.ratelimits.BOT); faster, its sends would be a burst, which costs the
rate limiter a second write, and soon a 429. So the rounds go round several channels alike
(the same members, the same connections, the bot in each) and come back to one only after
that interval: the posts follow each other as in a busy workspace, not after a second's
idleness (which made every figure vary by a third on this machine).
"""

from __future__ import annotations

import copy
import io
import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from bench import fanout
from bench.capacity import request_units
from local.handlers import Context, load_function
from local.stack import PROJECT_ROOT
from local.template import Template

CHANNELS = 12  # a round takes about 0.1 s: each channel's turn comes after a second or more
TEXT = "a message of ordinary length, about a hundred bytes of text"
TARGET_RATIO = 1.1
EVENTS = PROJECT_ROOT / "events"
# Each path's route: the template's function and the event that makes its route.
ROUTES = {
    "slack": ("SlackApiFunction", "SlackMethodPost", "slack_api-chat-post-message.json"),
    "native": ("ApiFunction", "PostMessage", "api-post-message.json"),
}
SLACK_SCOPES = ["chat:write"]
PACE_MARGIN_S = 0.02  # beyond the bot's send interval, for the clocks' differences


@dataclass(frozen=True)
class Route:
    function: str
    path: str
    authorizer: str  # the gateway's authorizer, "none" for a route without one
    authorizer_invocations: int  # 1 for a Lambda authorizer, 0 for JWT or none


def route(path_name: str, template: Template | None = None) -> Route:
    """What the template puts in front of a path's function."""
    template = template or Template.load(PROJECT_ROOT / "template.yaml")
    function, event_name, _ = ROUTES[path_name]
    event = template.resources[function].properties["Events"][event_name]["Properties"]
    auth = event.get("Auth", {}).get("Authorizer")
    api = template.resources[event["ApiId"]["Ref"]].properties
    api_auth = api.get("Auth", {})
    name = auth or api_auth.get("DefaultAuthorizer") or "NONE"
    if name == "NONE":
        return Route(function, f"{event['Method'].upper()} {event['Path']}", "none", 0)
    config = api_auth["Authorizers"][name]
    lambda_authorizer = "FunctionArn" in config
    kind = "Lambda" if lambda_authorizer else "JWT"
    return Route(
        function,
        f"{event['Method'].upper()} {event['Path']}",
        f"{name} ({kind})",
        int(lambda_authorizer),
    )


def _sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def native_event(user_id: str, channel_id: str, text: str) -> dict[str, Any]:
    """The sample post, by `user_id` (the JWT's claims as API Gateway passes them on),
    without its clientMsgId (slack_sdk sends none; with one the put is a transaction)."""
    event = _sample(ROUTES["native"][2])
    path = f"/channels/{channel_id}/messages"
    event["rawPath"] = path
    event["pathParameters"] = {"cid": channel_id}
    event["requestContext"]["http"]["path"] = path
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    claims.update(sub=user_id, name=user_id, email=f"{user_id}@example.com")
    claims["cognito:username"] = user_id
    event["body"] = json.dumps({"text": text})
    event["headers"]["content-length"] = str(len(event["body"]))
    return event


def slack_event(token: str, channel_id: str, text: str) -> dict[str, Any]:
    """The sample chat.postMessage as slack_sdk sends it (JSON, a bearer token)."""
    event = _sample(ROUTES["slack"][2])
    event["headers"]["authorization"] = f"Bearer {token}"
    event["body"] = json.dumps({"channel": channel_id, "text": text})
    event["headers"]["content-length"] = str(len(event["body"]))
    return event


@dataclass
class Call:
    ms: float
    requests: dict[str, int]
    read_units: float
    write_units: float
    delivered: int
    request_bytes: int
    reply_bytes: int
    log_bytes: int
    parts_ms: dict[str, float]  # time inside each timed function (Stopwatch)


class Stopwatch:
    """Times the calls of one module's function (the handlers look it up at call time), to
    say where a path's milliseconds go."""

    def __init__(self, module: ModuleType, name: str) -> None:
        self.module, self.name = module, name
        self.original = getattr(module, name)
        self.ms = 0.0

    def _timed(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.original(*args, **kwargs)
        finally:
            self.ms += (time.perf_counter() - start) * 1000

    @contextmanager
    def installed(self) -> Iterator[Stopwatch]:
        setattr(self.module, self.name, self._timed)
        try:
            yield self
        finally:
            setattr(self.module, self.name, self.original)


class Post:
    """One path: its handler, the event it is sent, and what makes a reply a success."""

    def __init__(
        self,
        handler: Callable[..., Any],
        events: dict[str, dict[str, Any]],
        ok: Callable[..., bool],
        watches: dict[str, Stopwatch],
    ):
        self.handler, self.events, self.ok, self.watches = handler, events, ok, watches

    def call(self, client: Any, poster: fanout.CountingPoster, channel_id: str) -> Call:
        event = copy.deepcopy(self.events[channel_id])
        log = io.StringIO()
        poster.posts = 0
        for watch in self.watches.values():
            watch.ms = 0.0
        with request_units(client) as units, redirect_stdout(log):
            start = time.perf_counter()
            reply = self.handler(event, Context("parley-bench"))
            ms = (time.perf_counter() - start) * 1000
        if not self.ok(reply):
            raise AssertionError(f"the post failed: {reply}")
        return Call(
            ms=ms,
            requests=dict(units.requests),
            read_units=units.read,
            write_units=units.write,
            delivered=poster.posts,
            request_bytes=len(str(event.get("body") or "").encode()),
            reply_bytes=len(str(reply.get("body") or "").encode()),
            log_bytes=len(log.getvalue().encode()),
            parts_ms={part: watch.ms for part, watch in self.watches.items()},
        )


def _native_ok(reply: dict[str, Any]) -> bool:
    return reply.get("statusCode") == 201


def _slack_ok(reply: dict[str, Any]) -> bool:
    return reply.get("statusCode") == 200 and json.loads(reply["body"]).get("ok") is True


@contextmanager
def posting_paths(
    members: int, channels: int
) -> Iterator[tuple[dict[str, Post], list[str], Any, fanout.CountingPoster]]:
    """moto with `channels` channels of the same `members` people, each person with a live
    connection, and an app's bot in each (made by the domain, as an admin makes one); both
    paths ready to post to any of them."""
    from parley import wiring
    from parley.adapters.dynamodb import workspaces as workspace_store
    from parley.adapters.dynamodb.base import botocore_client
    from parley.adapters.fanout import Broadcaster
    from parley.config import settings
    from parley.domain import apps, messages
    from parley.domain.caller import Caller
    from parley.edge.schemas import CreateApp

    authenticate = Stopwatch(apps, "authenticate")
    post_message = Stopwatch(messages, "post_message")
    with (
        # Stock moto, as the ratio's history has it (with the local stack's changes a post
        # takes a third of the time, so the token's GetItem weighs 1.10 instead of 1.01).
        fanout.moto_tables(local_changes=False),
        fanout.every_post_counted(),
        authenticate.installed(),
        post_message.installed(),
    ):
        settings.cache_clear()
        wiring.configured.cache_clear()
        wiring.configured()
        poster = fanout.CountingPoster()
        saved_broadcaster = wiring.broadcaster
        recorded = Broadcaster(poster, max_workers=fanout.POOL)
        wiring.broadcaster = lambda: recorded  # type: ignore[assignment]  # the benchmark swaps the composition root's broadcaster for a recorder
        try:
            users = [f"slk-{i:03d}" for i in range(members)]
            admin = workspace_store.new_member(fanout.WORKSPACE, users[0], "admin", fanout.NOW)
            fanout._seeding_backend().put_item(fanout.APP_TABLE, admin.serialize())
            with redirect_stdout(io.StringIO()):  # the domain's metrics, outside a handler
                created = apps.create_app(
                    Caller(user_id=users[0]),
                    fanout.WORKSPACE,
                    CreateApp(name="bench", scopes=SLACK_SCOPES),
                )
            # Same-length ids: they are in every membership, so they set the Query's size.
            channel_ids = [f"CSLACK{i:05d}" for i in range(channels)]
            for channel_id in channel_ids:
                fanout._channel([*users, created.app.botUserId], channel_id)
            fanout._connect(users)
            paths = {
                "slack": Post(
                    load_function("slack_api", "bench_fn").lambda_handler,
                    {c: slack_event(created.botToken, c, TEXT) for c in channel_ids},
                    _slack_ok,
                    {"authenticate": authenticate, "postMessage": post_message},
                ),
                "native": Post(
                    load_function("api", "bench_fn").lambda_handler,
                    {c: native_event(users[0], c, TEXT) for c in channel_ids},
                    _native_ok,
                    {"postMessage": post_message},
                ),
            }
            yield paths, channel_ids, botocore_client(), poster
        finally:
            wiring.broadcaster = saved_broadcaster
            settings.cache_clear()
            wiring.configured.cache_clear()


class Pacer:
    """Keeps a sender's posts to a channel a bot's send interval apart (its limiter idle
    for each), waiting when the channels' round comes back too soon."""

    def __init__(self) -> None:
        from parley.domain.ratelimits import BOT

        self.interval = 1 / BOT.per_second + PACE_MARGIN_S
        self.last: dict[tuple[str, str], float] = {}

    def wait(self, path: str, channel_id: str) -> None:
        due = self.last.get((path, channel_id), -self.interval) + self.interval
        time.sleep(max(0.0, due - time.monotonic()))
        self.last[path, channel_id] = time.monotonic()


def _rounds(
    paths: dict[str, Post],
    channel_ids: list[str],
    client: Any,
    poster: fanout.CountingPoster,
    rounds: int,
) -> dict[str, list[Call]]:
    """`rounds` posts on each path, interleaved, the first path alternating, both paths to
    the same channel in a round; a warm-up round first (imports, models built, the native
    caller provisioned) is not kept."""
    calls: dict[str, list[Call]] = {name: [] for name in paths}
    pacer = Pacer()
    order = list(paths)
    for n in range(rounds + 1):
        channel_id = channel_ids[n % len(channel_ids)]
        for name in order if n % 2 else reversed(order):
            pacer.wait(name, channel_id)
            call = paths[name].call(client, poster, channel_id)
            if n:
                calls[name].append(call)
    return calls


def _summary(calls: list[Call], found: Route) -> dict[str, Any]:
    first = calls[0]
    varied = {
        (tuple(sorted(c.requests.items())), c.read_units, c.write_units, c.delivered) for c in calls
    }
    if len(varied) != 1:
        raise AssertionError(f"requests, units or frames varied between rounds: {varied}")
    return {
        "function": found.function,
        "route": found.path,
        "authorizer": found.authorizer,
        "invocations": 1 + found.authorizer_invocations,
        "ddbRequests": sum(first.requests.values()),
        "requests": first.requests,
        "readUnits": first.read_units,
        "writeUnits": first.write_units,
        "delivered": first.delivered,
        "requestBytes": first.request_bytes,
        "replyBytes": first.reply_bytes,
        "logBytes": statistics.median(c.log_bytes for c in calls),
        "ms": round(statistics.median(c.ms for c in calls), 2),
        "minMs": round(min(c.ms for c in calls), 2),
        # Medians of each part, and of what is left: the handler's parsing, routing,
        # validation and reply, and Powertools' decorators.
        "partsMs": {
            part: round(statistics.median(c.parts_ms[part] for c in calls), 2)
            for part in first.parts_ms
        },
        "restMs": round(statistics.median(c.ms - sum(c.parts_ms.values()) for c in calls), 2),
    }


def run(members: int = 10, rounds: int = 100) -> dict[str, Any]:
    template = Template.load(PROJECT_ROOT / "template.yaml")
    with posting_paths(members, min(CHANNELS, rounds + 1)) as (paths, channel_ids, client, poster):
        calls = _rounds(paths, channel_ids, client, poster, rounds)
    slack = _summary(calls["slack"], route("slack", template))
    native = _summary(calls["native"], route("native", template))
    paired = [s.ms / n.ms for s, n in zip(calls["slack"], calls["native"], strict=True)]
    ratio = slack["ms"] / native["ms"]
    return {
        "postMessageMs": slack["ms"],
        "nativePostMs": native["ms"],
        "ratio": round(ratio, 3),
        "differenceMs": round(slack["ms"] - native["ms"], 2),
        "pairedRatio": round(statistics.median(paired), 3),
        "targetRatio": TARGET_RATIO,
        "pass": ratio <= TARGET_RATIO,
        "members": members,
        "rounds": rounds,
        "paths": {"slack": slack, "native": native},
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"One post to a channel of {result['members']} members, each with a live connection "
        f"(moto in process, @connections recorded; medians of {result['rounds']} interleaved "
        "rounds)",
        "",
        "| path | route | gateway authorizer | invocations | DDB requests | RRU | WRU "
        "| frames | request bytes | reply bytes | log bytes | median ms | min ms "
        "| token look-up ms | post_message ms | the rest ms |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: |",
    ]
    for name, label in (("slack", "Slack `chat.postMessage`"), ("native", "Parley's post")):
        p = result["paths"][name]
        requests = ", ".join(f"{op} {n}" for op, n in sorted(p["requests"].items()))
        parts = p["partsMs"]
        lookup = f"{parts['authenticate']:.2f}" if "authenticate" in parts else "0 (gateway)"
        lines.append(
            f"| {label} | `{p['route']}` | {p['authorizer']} | {p['invocations']} "
            f"| {p['ddbRequests']} ({requests}) | {p['readUnits']:g} | {p['writeUnits']:g} "
            f"| {p['delivered']} | {p['requestBytes']} | {p['replyBytes']} | {p['logBytes']:g} "
            f"| {p['ms']:.2f} | {p['minMs']:.2f} | {lookup} | {parts['postMessage']:.2f} "
            f"| {p['restMs']:.2f} |"
        )
    verdict = "met" if result["pass"] else "**not met**"
    lines.append(
        f"\nchat.postMessage / native post: **{result['ratio']:.3f}** "
        f"({result['differenceMs']:+.2f} ms; median of the rounds' own ratios "
        f"{result['pairedRatio']:.3f}); target ≤ {result['targetRatio']}: {verdict}"
    )
    return "\n".join(lines)
