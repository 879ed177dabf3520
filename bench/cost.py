"""Cost: the AWS list price of one million messages delivered to a 10-member channel, from the
DynamoDB request units and the sendMessage duration measured here (moto in process).

Prices are us-east-1 list prices, written down with their source and date in
docs/performance.md; change them there and here together.
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal
from math import ceil
from typing import Any

from bench import fanout
from bench.capacity import request_units

PRICES_AS_OF = "2026-11-27"
PRICES_USD = {
    "apigwWebSocketMessagePerMillion": 1.00,  # first billion a month, 32 KB increments
    "apigwConnectionMinutePerMillion": 0.25,
    "lambdaRequestPerMillion": 0.20,
    "lambdaArmGbSecond": 0.0000133334,  # first 7.5 billion GB-s a month
    "dynamodbWriteRequestUnitPerMillion": 0.625,  # on-demand, since November 2024
    "dynamodbReadRequestUnitPerMillion": 0.125,
    "sqsStandardRequestPerMillion": 0.40,  # after the first million a month, 64 KB chunks
    "opensearchT3SmallHour": 0.036,  # t3.small.search, on-demand
    "opensearchGp3GbMonth": 0.122,
}
MEMORY_GB = 0.5  # Globals.Function.MemorySize: 512
# Connection minutes are paid per connection, not per message: this assumes each member
# sends one message a minute, so the channel's 10 open connections cost 1 minute a message.
CONNECTION_MINUTES_PER_MESSAGE = 1.0

# The stream side of one message (docs/performance.md, "5. Cost"): its INSERT passes the
# event-source filters of both of the stream's consumers (notifier, stream forwarder;
# tests/functional/test_local_template.py counts them in the template); the stream forwarder
# queues it for the index (SendMessageBatch, 10 a request) and the indexer takes it
# from the index queue (Lambda's poller: ReceiveMessage and DeleteMessageBatch, 10 a
# request each). Lambda batches records as they come: these are the assumed batch sizes
# under a steady load of a million messages (the template allows 100 and 50).
STREAM_CONSUMERS = 2
STREAM_BATCH_RECORDS = 10
INDEX_BATCH_MESSAGES = 10
SQS_REQUESTS_PER_MESSAGE = 3 / 10  # send, receive, delete, 10 messages a request each
# Billed duration of a consumer's invocation (a batch), assumed, not measured here: the
# stream consumers do a few DynamoDB calls per record (notifier: the channel and its member
# ids), the indexer one bulk request.
CONSUMER_MS_PER_BATCH = 60
# Per message, the notifier's reads for a message without mentions in a channel of 10: the
# channel (GetItem, 0.5 RRU eventually consistent) and its member ids (a Query, 0.5 RRU).
STREAM_READ_UNITS_PER_MESSAGE = 1.0
# OpenSearch is a fixed monthly cost, not per message: one t3.small.search node with 10 GB
# gp3 (docs/decisions.md), shown beside the total and left out of it.
OPENSEARCH_GB = 10
HOURS_PER_MONTH = 730


def measure(members: int = 10, repeats: int = 20) -> dict[str, Any]:
    """Request units and wall time of one sendMessage to a channel of `members`."""
    from parley import wiring
    from parley.adapters.dynamodb.base import botocore_client
    from parley.adapters.fanout import Broadcaster
    from parley.config import settings
    from parley.domain import messages
    from parley.domain.caller import Caller
    from parley.edge.schemas import PostMessage

    with fanout.moto_tables():
        settings.cache_clear()
        wiring.configured.cache_clear()
        wiring.configured()
        poster = fanout.CountingPoster()
        broadcaster = Broadcaster(poster, max_workers=fanout.POOL)
        users = [f"cost-{i:03d}" for i in range(members)]
        fanout._channel(users, "CCOST0001")
        fanout._connect(users)
        sender = Caller(user_id=users[0], connection_id=f"conn-{users[0]}")
        body = PostMessage(text="a message of ordinary length, about a hundred bytes of text")
        durations, samples = [], []
        for _ in range(repeats):
            poster.posts = 0
            with request_units(botocore_client()) as units:
                start = time.perf_counter()
                messages.post_message(
                    sender, "CCOST0001", body, broadcaster, workspace_id=fanout.WORKSPACE
                )
                durations.append((time.perf_counter() - start) * 1000)
            samples.append(units)
        settings.cache_clear()
        wiring.configured.cache_clear()
    return {
        "members": members,
        "readUnits": samples[-1].read,
        "writeUnits": samples[-1].write,
        "requests": samples[-1].requests,
        "posts": poster.posts,
        "handlerMs": statistics.median(durations),
    }


def run(members: int = 10, repeats: int = 20) -> dict[str, Any]:
    measured = measure(members, repeats)
    per_message = {
        # the sendMessage frame in, the ack (route response) out, one frame per other member
        "apigwMessages": 2 + measured["posts"],
        "apigwConnectionMinutes": CONNECTION_MINUTES_PER_MESSAGE,
        "lambdaRequests": 1,
        "lambdaGbSeconds": MEMORY_GB * ceil(measured["handlerMs"]) / 1000,
        "dynamodbReadUnits": measured["readUnits"],
        "dynamodbWriteUnits": measured["writeUnits"],
        "streamInvocations": STREAM_CONSUMERS / STREAM_BATCH_RECORDS + 1 / INDEX_BATCH_MESSAGES,
        "sqsRequests": SQS_REQUESTS_PER_MESSAGE,
        "streamReadUnits": STREAM_READ_UNITS_PER_MESSAGE,
    }
    stream_invocations = Decimal(str(per_message["streamInvocations"]))
    million = Decimal(1_000_000)
    p = {k: Decimal(str(v)) for k, v in PRICES_USD.items()}
    breakdown = {
        "apigwMessages": Decimal(str(per_message["apigwMessages"]))
        * p["apigwWebSocketMessagePerMillion"],
        "apigwConnectionMinutes": Decimal(str(per_message["apigwConnectionMinutes"]))
        * p["apigwConnectionMinutePerMillion"],
        "lambdaRequests": p["lambdaRequestPerMillion"],
        "lambdaDuration": Decimal(str(per_message["lambdaGbSeconds"]))
        * million
        * p["lambdaArmGbSecond"],
        "dynamodbWrites": Decimal(str(per_message["dynamodbWriteUnits"]))
        * p["dynamodbWriteRequestUnitPerMillion"],
        "dynamodbReads": Decimal(str(per_message["dynamodbReadUnits"]))
        * p["dynamodbReadRequestUnitPerMillion"],
        # Lambda's reads of a DynamoDB stream are free; its invocations, their duration,
        # the consumers' reads and the index queue's requests are not.
        "streamAndIndexing": stream_invocations * p["lambdaRequestPerMillion"]
        + stream_invocations
        * Decimal(str(MEMORY_GB * CONSUMER_MS_PER_BATCH / 1000))
        * million
        * p["lambdaArmGbSecond"]
        + Decimal(str(SQS_REQUESTS_PER_MESSAGE)) * p["sqsStandardRequestPerMillion"]
        + Decimal(str(STREAM_READ_UNITS_PER_MESSAGE)) * p["dynamodbReadRequestUnitPerMillion"],
    }
    opensearch_month = (
        p["opensearchT3SmallHour"] * HOURS_PER_MONTH + p["opensearchGp3GbMonth"] * OPENSEARCH_GB
    )
    return {
        "usdPerMillionMessages": round(float(sum(breakdown.values())), 2),
        "breakdown": {k: round(float(v), 3) for k, v in breakdown.items()},
        "opensearchUsdPerMonth": round(float(opensearch_month), 2),
        "perMessage": per_message,
        "measured": measured,
        "prices": {"asOf": PRICES_AS_OF, "region": "us-east-1", **PRICES_USD},
        "assumptions": {
            "connectionMinutesPerMessage": CONNECTION_MINUTES_PER_MESSAGE,
            "memoryGb": MEMORY_GB,
            "streamBatchRecords": STREAM_BATCH_RECORDS,
            "indexBatchMessages": INDEX_BATCH_MESSAGES,
            "consumerMsPerBatch": CONSUMER_MS_PER_BATCH,
            "opensearch": "fixed: one t3.small.search node with 10 GB gp3, per month, "
            "outside the per-message total",
            "durationSource": "sendMessage's domain path on moto in process (a stand-in for "
            "Lambda's billed duration, rounded up to the millisecond)",
        },
    }


def table(result: dict[str, Any]) -> str:
    per = result["perMessage"]
    units = {
        "apigwMessages": f"{per['apigwMessages']} messages",
        "apigwConnectionMinutes": f"{per['apigwConnectionMinutes']} connection-minute",
        "lambdaRequests": "1 invocation",
        "lambdaDuration": f"{per['lambdaGbSeconds']:.4f} GB-s",
        "dynamodbWrites": f"{per['dynamodbWriteUnits']:g} WRU",
        "dynamodbReads": f"{per['dynamodbReadUnits']:g} RRU",
        "streamAndIndexing": f"{per['streamInvocations']:.2f} invocations, "
        f"{per['sqsRequests']:.1f} SQS requests, {per['streamReadUnits']:g} RRU",
    }
    lines = [
        f"Cost of 1,000,000 messages to a {result['measured']['members']}-member channel "
        f"(us-east-1 list prices of {result['prices']['asOf']})",
        "",
        "| item | per message | USD per million messages |",
        "| --- | --- | ---: |",
    ]
    for item, usd in result["breakdown"].items():
        lines.append(f"| {item} | {units[item]} | {usd:.3f} |")
    lines.append(f"| **total** | | **{result['usdPerMillionMessages']:.2f}** |")
    lines.append(
        f"\nOpenSearch, a fixed cost outside the total: ${result['opensearchUsdPerMonth']:.2f} "
        "a month (one t3.small.search node, 10 GB gp3)."
    )
    return "\n".join(lines)
