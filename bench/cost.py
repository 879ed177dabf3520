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
# queues a stream batch's changes for the index as one pack (one SendMessage request per
# batch, measured below), and the indexer takes ten packs a poll (Lambda's poller:
# ReceiveMessage, billed per 64 KB of what it returns, and DeleteMessageBatch). Lambda
# batches records as they come: these are the assumed batch sizes under a steady load of a
# million messages (the template allows 100 and 50).
STREAM_CONSUMERS = 2
STREAM_BATCH_RECORDS = 10
INDEX_BATCH_MESSAGES = 10  # queue messages (packs) per indexer invocation
SQS_CHUNK_BYTES = 64 * 1024
# Billed duration of a consumer's invocation (a batch), assumed, not measured here: the
# stream consumers do a few DynamoDB calls per record (notifier: the channel and its member
# ids), the indexer one bulk request.
CONSUMER_MS_PER_BATCH = 60
# OpenSearch is a fixed monthly cost, not per message: one t3.small.search node with 10 GB
# gp3 (docs/decisions.md), shown beside the total and left out of it.
OPENSEARCH_GB = 10
HOURS_PER_MONTH = 730


def measure(members: int = 10, repeats: int = 20) -> dict[str, Any]:
    """Request units and wall time of one sendMessage to a channel of `members`, at the
    modelled cadence (each member sends a message a minute, so each message is its
    sender's first in a minute: the rate limit's quiet tier forgets between sends), and
    the read units the stream's consumers spend on one batch of those messages."""
    from parley import wiring
    from parley.adapters.dynamodb.base import botocore_client
    from parley.adapters.fanout import Broadcaster
    from parley.config import settings
    from parley.domain import messages, ratelimits
    from parley.domain.caller import Caller
    from parley.edge.schemas import PostMessage

    # Stock moto, as the priced durations have been measured on (its wall time is billed).
    with fanout.moto_tables(local_changes=False):
        settings.cache_clear()
        wiring.configured.cache_clear()
        wiring.configured()
        poster = fanout.CountingPoster()
        broadcaster = Broadcaster(poster, max_workers=fanout.POOL)
        users = [f"cost-{i:03d}" for i in range(members)]
        fanout._channel(users, "CCOST0001")
        fanout._connect(users)
        body = PostMessage(text="a message of ordinary length, about a hundred bytes of text")

        def send(sender: str) -> tuple[Any, Any]:
            caller = Caller(user_id=sender, connection_id=f"conn-{sender}")
            return messages.post_message(
                caller, "CCOST0001", body, broadcaster, workspace_id=fanout.WORKSPACE
            )

        durations, samples, sent = [], [], []
        for i in range(repeats):
            ratelimits.forget()
            poster.posts = 0
            with request_units(botocore_client()) as units:
                start = time.perf_counter()
                message, _ = send(users[i % members])
                durations.append((time.perf_counter() - start) * 1000)
            samples.append(units)
            sent.append(message.ts)
        posts = poster.posts
        # The same sender back to back, for comparison: the shared count's writes.
        ratelimits.forget()
        with request_units(botocore_client()) as burst:
            for _ in range(5):
                send(users[0])
        stream = _stream_units(sent[-STREAM_BATCH_RECORDS:])
        ratelimits.forget()
        settings.cache_clear()
        wiring.configured.cache_clear()
    return {
        "members": members,
        "readUnits": samples[-1].read,
        "writeUnits": samples[-1].write,
        "requests": samples[-1].requests,
        "posts": posts,
        "handlerMs": statistics.median(durations),
        "burstWriteUnitsPerMessage": burst.write / 5,
        "streamBatch": stream,
    }


def _stream_units(timestamps: list[str]) -> dict[str, Any]:
    """The read units both stream consumers spend on one batch of these messages' INSERTs
    (the notifier, and the forwarder's app-event subscriptions; their queues' sends are
    counted by the model, below)."""
    import boto3

    from parley.adapters.dynamodb.base import botocore_client
    from parley.adapters.fanout import Broadcaster
    from parley.domain import app_events
    from parley.edge.notifier import process_stream
    from parley.search import pipeline
    from parley.streams import stream_records

    dynamodb = boto3.client("dynamodb")
    records = []
    for n, ts in enumerate(timestamps):
        keys = {"PK": {"S": "CH#CCOST0001"}, "SK": {"S": f"MSG#{ts}"}}
        image = dynamodb.get_item(TableName=fanout.APP_TABLE, Key=keys)["Item"]
        records.append(
            {
                "eventID": str(n),
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": keys,
                    "NewImage": image,
                    "SequenceNumber": str(n + 1).zfill(21),
                    "SizeBytes": 300,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
        )
    event = {"Records": records}
    sent: list[int] = []

    class Queue:
        def send(self, bodies: Any) -> set[str]:
            sent.extend(len(body) for _, body in bodies)
            return set()

    with request_units(botocore_client()) as units:
        reply = process_stream(event, None, Broadcaster(fanout.CountingPoster()), None)  # type: ignore[arg-type]  # Powertools' batch processor takes no context here
        pipeline.forward(stream_records(event), Queue())
        app_events.forward(stream_records(event), Queue())
    assert reply == {"batchItemFailures": []}, reply
    return {
        "records": len(records),
        "readUnits": units.read,
        "writeUnits": units.write,
        "requests": units.requests,
        "indexPacks": len(sent),
        "indexPackBytes": sent[0],
    }


def _index_queue_requests(batch: dict[str, Any]) -> float:
    """The index queue's billed requests per message: the forwarder's sends (measured: one
    per stream batch) and the indexer's poll of INDEX_BATCH_MESSAGES packs, one ReceiveMessage
    per 64 KB it returns and one DeleteMessageBatch."""
    sends = batch["indexPacks"]
    receives = ceil(INDEX_BATCH_MESSAGES * batch["indexPackBytes"] / SQS_CHUNK_BYTES)
    per_poll = receives + 1
    return sends / batch["records"] + per_poll / (INDEX_BATCH_MESSAGES * batch["records"])


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
        "streamInvocations": STREAM_CONSUMERS / STREAM_BATCH_RECORDS
        + 1 / (INDEX_BATCH_MESSAGES * STREAM_BATCH_RECORDS),
        "sqsRequests": _index_queue_requests(measured["streamBatch"]),
        "streamReadUnits": measured["streamBatch"]["readUnits"] / STREAM_BATCH_RECORDS,
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
        + Decimal(str(per_message["sqsRequests"])) * p["sqsStandardRequestPerMillion"]
        + Decimal(str(per_message["streamReadUnits"])) * p["dynamodbReadRequestUnitPerMillion"],
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
        f"{per['sqsRequests']:.2f} SQS requests, {per['streamReadUnits']:g} RRU",
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
