"""Search: index lag (a message posted → found by the search route), bulk throughput and
query latency at scale, against the real local OpenSearch node.

- Lag: the whole local pipeline, as in AWS: POST a message, then poll the search route until
  it is found; the table's stream, the forwarder, the index queue and the indexer sit between.
  The local pollers poll every 50 ms, which bounds the lag from below.
- Throughput: synthetic chat messages in bulks of 1,000, written with external versions as
  the indexer writes them, straight to the node (no Lambda in the path).
- Query latency: the route's own request bodies (one to three words, a phrase, a channel
  filter over 20 channels) against the index once it holds `messages` documents, measured at
  the node; the route adds its DynamoDB look-ups on top.

The baseline is the node's bare round trip: `GET /` on the same connection.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from local.search_node import OpenSearchNode, search_services
from local.stack import Stack, StackConfig
from parley.adapters.opensearch import MessageIndex, connect
from parley.search.changes import IndexChange
from parley.search.query import parse_query
from parley.search.request import search_body

BULK = 1000
CHANNELS = 20
LAG_INTERVAL_S = 0.2


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 1)


def _summary(values: list[float]) -> dict[str, float | None]:
    return {
        "p50Ms": _percentile(values, 50),
        "p99Ms": _percentile(values, 99),
        "meanMs": round(statistics.fmean(values), 1) if values else None,
        "samples": len(values),
    }


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(size)]


def _lag(stack: Stack, samples: int, interval_s: float = LAG_INTERVAL_S) -> tuple[list[float], int]:
    """Posts `samples` messages through the HTTP API, one every `interval_s` (the sender's
    rate limit allows ten a second), while one search for the run's word polls the route:
    each message's lag runs from its post to the first search that returns it. The samples
    overlap, so the run takes seconds rather than `samples` times the lag. Also returns how
    many searches answered 503 (unavailable: retry later), which the poll retries."""
    token = stack.login(f"bench-search-{uuid.uuid4().hex[:6]}").id_token
    headers = {"authorization": f"Bearer {token}"}
    http = requests.Session()
    workspace = http.post(
        f"{stack.http_url}/workspaces", json={"name": "Search bench"}, headers=headers, timeout=30
    ).json()["workspace"]["id"]
    channels = http.get(
        f"{stack.http_url}/workspaces/{workspace}/channels", headers=headers, timeout=30
    ).json()["channels"]
    general = channels[0]["id"]
    word = f"lag{uuid.uuid4().hex[:10]}"
    search = f"{stack.http_url}/workspaces/{workspace}/search?q={quote(word)}&limit={samples}"
    posted: dict[str, float] = {}  # text -> when its POST began
    found: dict[str, float] = {}  # text -> when a search first returned it
    next_post, deadline = time.perf_counter(), float("inf")
    unavailable = 0
    while len(found) < samples and time.perf_counter() < deadline:
        if len(posted) < samples and time.perf_counter() >= next_post:
            text = f"benchmark message {word} n{len(posted):03d}"
            started = time.perf_counter()
            http.post(
                f"{stack.http_url}/channels/{general}/messages",
                json={"text": text},
                headers=headers,
                timeout=30,
            ).raise_for_status()
            posted[text] = started
            next_post = started + interval_s
            if len(posted) == samples:
                deadline = time.perf_counter() + 30
        answer = http.get(search, headers=headers, timeout=30)
        if answer.status_code == 503:  # "unavailable: retry later", as a client would
            unavailable += 1
            time.sleep(0.1)
            continue
        if answer.status_code != 200:
            raise RuntimeError(f"search answered {answer.status_code}: {answer.text[:500]}")
        results = answer.json()["results"]
        now = time.perf_counter()
        for result in results:
            found.setdefault(result["message"]["text"], now)
        time.sleep(0.02)
    lags = [(found[text] - at) * 1000 for text, at in posted.items() if text in found]
    return lags, unavailable


def _fill(index: MessageIndex, messages: int, rng: random.Random, words: list[str]) -> float:
    """Writes `messages` synthetic messages; their rate in messages per second."""
    base = 1_700_000_000
    started = time.perf_counter()
    for start in range(0, messages, BULK):
        batch = [
            IndexChange(
                workspaceId="W-bench",
                channelId=f"C-bench-{n % CHANNELS:02d}",
                ts=f"{base + n}.{n % 1_000_000:06d}",
                version=1,
                userId=f"U-bench-{n % 50:02d}",
                text=" ".join(rng.choice(words) for _ in range(rng.randint(6, 24))),
            )
            for n in range(start, min(start + BULK, messages))
        ]
        outcome = index.write(batch)
        if outcome.failed:
            raise RuntimeError(f"{len(outcome.failed)} bench documents were not written")
    elapsed = time.perf_counter() - started
    index.client.indices.refresh(index="messages")
    return messages / elapsed


def _queries(index: MessageIndex, count: int, rng: random.Random, words: list[str]) -> list[float]:
    channels = [f"C-bench-{n:02d}" for n in range(CHANNELS)]
    latencies = []
    for n in range(count):
        kind = n % 4
        if kind == 3:
            text = f'"{rng.choice(words)} {rng.choice(words)}"'
        else:
            text = " ".join(rng.choice(words) for _ in range(kind + 1))
        body = search_body(
            parse_query(text),
            workspace_id="W-bench",
            channel_ids=channels[: rng.randint(1, CHANNELS)],
            user_ids=None,
            offset=0,
            size=20,
        )
        started = time.perf_counter()
        index.search(body)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _round_trips(node: OpenSearchNode, count: int) -> list[float]:
    http = requests.Session()
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        http.get(node.url, timeout=10).raise_for_status()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def run(messages: int = 100_000, lag_samples: int = 50, queries: int = 500) -> dict[str, Any]:
    services = search_services(port=0)
    if not services:
        return {"skipped": "no JDK or Maven on this machine"}
    node = services[0]
    assert isinstance(node, OpenSearchNode)
    rng = random.Random(7)
    words = _vocabulary(rng)
    seconds: dict[str, float] = {}
    clock = time.monotonic()

    def lap(phase: str) -> None:
        nonlocal clock
        seconds[phase] = round(time.monotonic() - clock, 1)
        clock = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="parley-bench-search-") as state:
        config = StackConfig(
            state_dir=Path(state),
            http_port=0,
            ws_port=0,
            aws_port=0,
            poll_interval_s=0.05,
            services=[node],
        )
        with Stack(config) as stack:
            # The index exists before the first post, as after any deployment's first start:
            # the lag measures the pipeline, not the creation of the index.
            index = MessageIndex(connect(node.url, stack.region, timeout_s=60))
            index.ensure()
            lap("stack")
            lags, unavailable = _lag(stack, lag_samples)
            lap("lag")
            rate = _fill(index, messages, rng, words)
            lap("bulk")
            query_ms = _queries(index, queries, rng, words)
            baseline = _round_trips(node, queries)
            lap("queries")
    lap("stop")
    lag, query = _summary(lags), _summary(query_ms)
    return {
        "messages": messages,
        # issue 9's keys for latest.json, beside the fuller summaries below
        "lagP50Ms": lag["p50Ms"],
        "lagP99Ms": lag["p99Ms"],
        "bulkDocsPerS": round(rate),
        "queryP50Ms": query["p50Ms"],
        "queryP99Ms": query["p99Ms"],
        "indexLag": lag,
        "searchesUnavailable": unavailable,
        "bulkMessagesPerS": round(rate),
        "query": query,
        "baselineRoundTrip": _summary(baseline),
        "phaseSeconds": seconds,
    }


def table(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return f"search: skipped ({result['skipped']})"

    def ms(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}"

    lag, query, base = result["indexLag"], result["query"], result["baselineRoundTrip"]
    return "\n".join(
        [
            f"Search on the local OpenSearch node, {result['messages']:,} messages indexed",
            "",
            "| measure | p50 ms | p99 ms | samples |",
            "| --- | ---: | ---: | ---: |",
            f"| index lag (post → searchable) | {ms(lag['p50Ms'])} | {ms(lag['p99Ms'])} "
            f"| {lag['samples']} |",
            f"| query | {ms(query['p50Ms'])} | {ms(query['p99Ms'])} | {query['samples']} |",
            f"| baseline: GET / round trip | {ms(base['p50Ms'])} | {ms(base['p99Ms'])} "
            f"| {base['samples']} |",
            "",
            f"Bulk indexing: {result['bulkMessagesPerS']:,} messages/s in bulks of {BULK:,}.",
            f"Searches answered 503 while polling (retried): {result['searchesUnavailable']}.",
        ]
    )
