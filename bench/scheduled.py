"""Scheduled messages' lateness on the local stack: `count` messages scheduled over the HTTP
API, each posted by the local scheduler (local/scheduler.py) through the scheduled poster
function; lateness is the posted message's `ts` less its `postAt`.

- The schedules: one author in `channels` channels (so that the posts stay within the
  author's send burst), `postAt` on whole seconds (Scheduler's `at()` has no finer grain),
  `spread_s` seconds apart in all, starting just over the minute ahead that the API asks.
  Rather than wait that minute, the scheduler's clock is advanced by it (the stack's
  `scheduler_clock`): lateness is measured on that clock, the message's ts plus the offset.
- The baseline: the poll period. A one-time schedule is seen at the first poll after its
  time, so with no other delay the lateness is uniform over the period (p50 half of it);
  `p50OverPoll` and `p99OverPoll` say how far the invocation (a worker of the poster
  function, its DynamoDB writes and the fan-out) adds to that.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from local.stack import Stack, StackConfig

LEAD_S = 62  # beyond the API's minute, with room for the requests that make the schedules


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def run(
    count: int = 200,
    channels: int = 5,
    spread_s: float = 20.0,
    poll_s: float = 1.0,
    timeout_s: float = 180.0,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="parley-bench-scheduled-") as state:
        config = StackConfig(
            state_dir=Path(state), http_port=0, ws_port=0, aws_port=0, scheduler_poll_s=poll_s
        )
        with Stack(config) as stack:
            session = requests.Session()
            token = stack.login("bench-scheduler").id_token
            session.headers["authorization"] = f"Bearer {token}"
            base = stack.http_url

            def call(method: str, path: str, body: Any = None) -> Any:
                reply = session.request(method, base + path, json=body, timeout=30)
                if reply.status_code >= 300:
                    raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text}")
                return reply.json() if reply.content else None

            wid = call("POST", "/workspaces", {"name": "Scheduling bench"})["workspace"]["id"]
            cids = [
                call("POST", f"/workspaces/{wid}/channels", {"name": f"sched-{n}"})["channel"]["id"]
                for n in range(channels)
            ]
            start = math.ceil(time.time()) + LEAD_S
            post_ats = {}
            for n in range(count):
                at = start + math.floor(n * spread_s / count)
                iso = datetime.fromtimestamp(at, UTC).isoformat()
                body = {"text": f"scheduled {n}", "postAt": iso}
                made = call("POST", f"/channels/{cids[n % channels]}/scheduled", body)
                post_ats[made["scheduled"]["text"]] = float(at)
            pending = len(call("GET", "/me/scheduled?limit=200")["scheduled"])
            offset = start - time.time() - 0.5  # the first ones come due half a second on
            stack.scheduler_clock.advance(offset)
            lateness: dict[str, float] = {}
            deadline = time.monotonic() + timeout_s
            while len(lateness) < count and time.monotonic() < deadline:
                time.sleep(1.0)
                for cid in cids:
                    page = call("GET", f"/channels/{cid}/messages?limit=200")["messages"]
                    for message in page:
                        text = message["text"]
                        if text in post_ats and text not in lateness:
                            lateness[text] = float(message["ts"]) + offset - post_ats[text]
            left = len(call("GET", "/me/scheduled?limit=200")["scheduled"])
    if len(lateness) < count:
        raise RuntimeError(f"{len(lateness)} of {count} scheduled messages were posted")
    late_ms = [value * 1000 for value in lateness.values()]
    p50, p99 = _percentile(late_ms, 0.5), _percentile(late_ms, 0.99)
    return {
        "count": count,
        "lateP50Ms": round(p50),
        "lateP99Ms": round(p99),
        "lateMaxMs": round(max(late_ms)),
        "lateMinMs": round(min(late_ms)),
        "lateMeanMs": round(statistics.fmean(late_ms)),
        "pollMs": round(poll_s * 1000),
        "p50OverPoll": round(p50 / (poll_s * 1000), 2),
        "p99OverPoll": round(p99 / (poll_s * 1000), 2),
        "pendingBefore": pending,
        "pendingAfter": left,
    }


def table(result: dict[str, Any]) -> str:
    rows = [
        "| scheduled | poll ms | late p50 ms | late p99 ms | max ms | p50 / poll | p99 / poll |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {result['count']} | {result['pollMs']} | {result['lateP50Ms']} | "
        f"{result['lateP99Ms']} | {result['lateMaxMs']} | {result['p50OverPoll']} | "
        f"{result['p99OverPoll']} |",
    ]
    return "\n".join(rows)
