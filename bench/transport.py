"""The lean clients' transport: the hand-written one (`http.client` kept alive per thread,
`parley.adapters.keepalive`, signed by `parley.adapters.sigv4`) beside urllib3 with botocore's
`SigV4Auth` (bench/urllib3_transport.py: the same protocol code, only the wire replaced) and
beside botocore's whole client, in the same run.

What: each makes the same requests to one local server in a thread of this process, which
answers every request with a canned answer of realistic size (an item of a dozen attributes,
Query's eleven, BatchGetItem's ten, @connections' empty 200) and its headers. DynamoDB's
clients are called as pynamodb calls them (`_make_api_call`; botocore's client is the one
pynamodb makes, with its configuration), @connections' as the Broadcaster does (`post`;
boto3's `post_to_connection` for the baseline).

- **CPU per request**: `time.thread_time()` of the calling thread over `calls` requests, so
  the server's threads are not counted; rounds interleaved (the order rotating each round),
  the median over rounds, and ratios to the hand-written transport's figure of each round
  (the median of those ratios).
- **Signing alone**: PutItem's request signed by each signer, no I/O, ten times `calls` a
  round: how much of the difference is the signature.
- **First call**: a fresh `python -I` per run that has imported pynamodb (as every function
  that uses the store has at cold start, botocore and urllib3 with it): the CPU
  (`time.process_time()`) and the modules it takes to import the client, make it, find its
  credentials and make the first request; median of `runs`, interleaved.
- **Lines**: the lines of the wire each variant needs (blank and comment lines and
  docstrings left out for the code lines); the protocol code both share beside them.
"""

from __future__ import annotations

import ast
import io
import json
import os
import statistics
import subprocess
import sys
import time
import tokenize
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "parley"
ADAPTERS = LAYER / "parley" / "adapters"
REGION = "us-east-1"
TABLE = "bench-transport"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEJr//////////wEaDH0+session/token==",
}
FRAME = json.dumps(
    {"type": "message", "channel": "C0123456789", "text": "a message of ordinary length " * 4},
    separators=(",", ":"),
).encode()
CONNECTION_ID = "L0SM9cOFvHcCIhw="
# Each variant of each client, the hand-written (the baseline of the ratios) first.
VARIANTS = {
    "dynamodb": ("handWritten", "urllib3", "botocore"),
    "connections": ("handWritten", "urllib3", "boto3"),
}
OPERATIONS = ("GetItem", "PutItem", "Query", "BatchGetItem")
# The top-level definitions each wire is made of. What both need (the Answer they return,
# the credential chain) and the protocol code around them (SHARED) are counted apart.
WIRES: dict[str, list[tuple[Path, tuple[str, ...]]]] = {
    "handWritten": [
        (ADAPTERS / "keepalive.py", ("KeepAlive",)),
        (
            ADAPTERS / "sigv4.py",
            ("host_header", "signed_headers", "_canonical_query", "_signing_key"),
        ),
        (ADAPTERS / "dynamodb" / "transport.py", ("_connect_error", "_as_botocore")),
    ],
    "urllib3": [(ROOT / "bench" / "urllib3_transport.py", ("Urllib3Wire", "_as_botocore"))],
}
SHARED = [ADAPTERS / "dynamodb" / "transport.py", ADAPTERS / "connections.py"]


# ---------------------------------------------------------------------- the requests


def _message_item(n: int) -> dict[str, Any]:
    """A message as the table holds it (about 700 bytes of JSON)."""
    ts = f"1796256000.{n:06d}"
    return {
        "PK": {"S": "CH#C0123456789"},
        "SK": {"S": f"MSG#{ts}"},
        "GSI1PK": {"S": "THREAD#C0123456789#1796256000.000000"},
        "GSI1SK": {"S": ts},
        "type": {"S": "message"},
        "channelId": {"S": "C0123456789"},
        "ts": {"S": ts},
        "userId": {"S": "u-3f2a9c1e-7b4d-4e8a-9f61-2c5d8e0a1b3c"},
        "text": {"S": "a message of ordinary length, about a hundred bytes of text " * 2},
        "createdAt": {"S": "2026-12-03T11:39:12.000100Z"},
        "replyCount": {"N": "0"},
        "reactions": {"M": {"thumbsup": {"SS": ["u-1", "u-2"]}}},
        "edited": {"BOOL": False},
    }


def _key(n: int) -> dict[str, Any]:
    item = _message_item(n)
    return {"PK": item["PK"], "SK": item["SK"]}


REQUESTS: dict[str, dict[str, Any]] = {
    "GetItem": {"TableName": TABLE, "Key": _key(1), "ConsistentRead": True},
    "PutItem": {
        "TableName": TABLE,
        "Item": _message_item(1),
        "ConditionExpression": "attribute_not_exists (#0)",
        "ExpressionAttributeNames": {"#0": "PK"},
    },
    "Query": {
        "TableName": TABLE,
        "KeyConditionExpression": "#0 = :0 AND begins_with (#1, :1)",
        "ExpressionAttributeNames": {"#0": "PK", "#1": "SK"},
        "ExpressionAttributeValues": {":0": {"S": "CH#C0123456789"}, ":1": {"S": "MSG#"}},
        "ScanIndexForward": False,
        "Limit": 11,
    },
    "BatchGetItem": {"RequestItems": {TABLE: {"Keys": [_key(n) for n in range(10)]}}},
}
ANSWERS: dict[str, dict[str, Any]] = {
    "GetItem": {"Item": _message_item(1)},
    "PutItem": {},
    "Query": {
        "Items": [_message_item(n) for n in range(11)],
        "Count": 11,
        "ScannedCount": 11,
        "LastEvaluatedKey": _key(10),
    },
    "BatchGetItem": {"Responses": {TABLE: [_message_item(n) for n in range(10)]}},
}


# ---------------------------------------------------------------------- the server


@contextmanager
def canned_server() -> Iterator[str]:
    """HTTP/1.1 keep-alive on 127.0.0.1, in threads of this process: a DynamoDB request
    gets its operation's answer (ANSWERS, with the headers DynamoDB sends), any other POST
    @connections' empty 200. Yields the origin."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bodies = {op: json.dumps(answer).encode() for op, answer in ANSWERS.items()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # the body's write must not wait for a delayed ACK

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            target = self.headers.get("X-Amz-Target")
            self.send_response(200)
            if target is None:  # @connections
                body = b""
                self.send_header("Content-Type", "application/json")
                self.send_header("x-amz-apigw-id", "Rj3kFHxyIAMF9Ag=")
            else:
                body = bodies[target.rsplit(".", 1)[1]]
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("x-amz-crc32", str(zlib.crc32(body)))
            self.send_header(
                "x-amzn-RequestId", "N8ABK1CPV9SJRJHS5L03DU2N4JVV4KQNSO5AEMVJF66Q9ASUAAJG"
            )
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------- the clients


def dynamodb_client(variant: str, origin: str) -> Any:
    """The client under pynamodb's connection, made as the store's binding makes it."""
    if variant == "handWritten":
        from parley.adapters.dynamodb.transport import LeanConnection

        return LeanConnection(region=REGION, host=origin).client
    if variant == "urllib3":
        from bench.urllib3_transport import Urllib3DynamoDB
        from parley.adapters.dynamodb.transport import LeanConnection

        settings = LeanConnection(region=REGION, host=origin)
        lean = settings.client
        return Urllib3DynamoDB(
            REGION,
            origin,
            max_attempts=lean._max_attempts,
            connect_timeout_s=lean._connect_timeout_s,
            read_timeout_s=lean._read_timeout_s,
            botocore_client=settings._botocore_client,
            session=lambda: settings.session,
        )
    from pynamodb.connection.base import Connection

    return Connection(region=REGION, host=origin).client  # pynamodb's botocore client


class Boto3Poster:
    """boto3's `post_to_connection` as a poster (`parley.adapters.fanout.Poster`)."""

    def __init__(self, endpoint: str) -> None:
        import boto3

        # a session of its own: boto3's default one keeps the credentials it found first
        self._client = boto3.session.Session().client(
            "apigatewaymanagementapi", endpoint_url=endpoint, region_name=REGION
        )

    def post(self, connection_id: str, data: bytes) -> bool:
        self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        return True


def connections_client(variant: str, origin: str) -> Any:
    """A poster to @connections at `origin`'s stage `dev`, as the Broadcaster holds one."""
    endpoint = f"{origin}/dev"
    if variant == "handWritten":
        from parley.adapters.connections import ConnectionsApi

        return ConnectionsApi(endpoint, REGION)
    if variant == "urllib3":
        from bench.urllib3_transport import Urllib3Connections

        return Urllib3Connections(endpoint, REGION)
    return Boto3Poster(endpoint)


def callers(origin: str) -> dict[str, dict[str, Callable[[], object]]]:
    """Per request kind ("GetItem"..., "post"), each variant's call."""
    clients = {variant: dynamodb_client(variant, origin) for variant in VARIANTS["dynamodb"]}
    table: dict[str, dict[str, Callable[[], object]]] = {}
    for operation in OPERATIONS:
        table[operation] = {
            variant: _call(client, operation) for variant, client in clients.items()
        }
    posters = {variant: connections_client(variant, origin) for variant in VARIANTS["connections"]}
    table["post"] = {variant: _post(poster) for variant, poster in posters.items()}
    return table


def _post(poster: Any) -> Callable[[], object]:
    return lambda: poster.post(CONNECTION_ID, FRAME)


def _call(client: Any, operation: str) -> Callable[[], object]:
    def call() -> object:
        # botocore's serializer reads the parameters and leaves them as they were
        return client._make_api_call(operation, REQUESTS[operation])

    return call


# ---------------------------------------------------------------------- CPU per request


def cpu_per_request(calls: int, rounds: int) -> dict[str, dict[str, Any]]:
    """Per request kind: each variant's median ms of client thread CPU a request, its
    per-round figures and the median ratio to the hand-written's in the same round."""
    with _credentials(), canned_server() as origin:
        kinds = callers(origin)
        for variants in kinds.values():  # connections made, credentials found, caches warm
            for call in variants.values():
                for _ in range(20):
                    call()
        samples: dict[str, dict[str, list[float]]] = {
            kind: {variant: [] for variant in variants} for kind, variants in kinds.items()
        }
        for round_ in range(rounds):
            for kind, variants in kinds.items():
                names = list(variants)
                order = names[round_ % len(names) :] + names[: round_ % len(names)]
                for variant in order:
                    samples[kind][variant].append(_thread_cpu_ms(variants[variant], calls))
    result: dict[str, dict[str, Any]] = {}
    for kind, per_variant in samples.items():
        base = per_variant["handWritten"]
        result[kind] = {
            variant: {
                "ms": round(statistics.median(ms), 3),
                "rounds": [round(m, 3) for m in ms],
                "ratio": round(statistics.median(m / b for m, b in zip(ms, base, strict=True)), 2),
            }
            for variant, ms in per_variant.items()
        }
    return result


def signing(calls: int, rounds: int) -> dict[str, dict[str, Any]]:
    """The signature alone, no I/O: ms of CPU to sign PutItem's request (REQUESTS) with
    each signer, the median over interleaved rounds and its ratio to parley's."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import ReadOnlyCredentials

    from parley.adapters.sigv4 import signed_headers

    credential = ReadOnlyCredentials(
        CREDENTIALS["AWS_ACCESS_KEY_ID"],
        CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        CREDENTIALS["AWS_SESSION_TOKEN"],
    )
    body = json.dumps(REQUESTS["PutItem"]).encode()
    target = {
        "X-Amz-Target": "DynamoDB_20120810.PutItem",
        "Content-Type": "application/x-amz-json-1.0",
    }
    url = f"https://dynamodb.{REGION}.amazonaws.com/"

    def parleys() -> object:
        return signed_headers(
            "POST",
            f"dynamodb.{REGION}.amazonaws.com",
            "/",
            body,
            service="dynamodb",
            region=REGION,
            credential=credential,
            now=time.time(),
            headers=target,
        )

    def botocores() -> object:
        request = AWSRequest("POST", url, headers=target, data=body)
        SigV4Auth(credential, "dynamodb", REGION).add_auth(request)
        return dict(request.headers.items())

    signers = {"handWritten": parleys, "urllib3": botocores}
    samples: dict[str, list[float]] = {name: [] for name in signers}
    for round_ in range(rounds):
        for name in sorted(signers, reverse=bool(round_ % 2)):
            samples[name].append(_thread_cpu_ms(signers[name], calls))
    base = samples["handWritten"]
    return {
        name: {
            "ms": round(statistics.median(ms), 4),
            "ratio": round(statistics.median(m / b for m, b in zip(ms, base, strict=True)), 2),
        }
        for name, ms in samples.items()
    }


def _thread_cpu_ms(call: Callable[[], object], calls: int) -> float:
    started = time.thread_time()
    for _ in range(calls):
        call()
    return (time.thread_time() - started) * 1000 / calls


@contextmanager
def _credentials() -> Iterator[None]:
    """Keys in the environment, where botocore's chain looks first; no endpoint or proxy."""
    saved = dict(os.environ)
    os.environ.update(CREDENTIALS)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "HTTP_PROXY"):
        os.environ.pop(name, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ---------------------------------------------------------------------- first call

_FIRST_CALL = """
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import pynamodb.connection.base  # every function that uses the store has it at cold start
from bench import transport
before = set(sys.modules)
started = time.process_time()
transport.first_call(sys.argv[3], sys.argv[4], sys.argv[5])
cpu_ms = (time.process_time() - started) * 1000
print(json.dumps({"cpuMs": cpu_ms, "modules": len(set(sys.modules) - before)}))
"""


def first_call(client: str, variant: str, origin: str) -> None:
    """In a fresh interpreter: import, make and first use `variant` of `client`."""
    if client == "dynamodb":
        dynamodb_client(variant, origin)._make_api_call("GetItem", REQUESTS["GetItem"])
    else:
        connections_client(variant, origin).post(CONNECTION_ID, FRAME)


def first_calls(runs: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Per client and variant: the median CPU ms and modules of a process's first call."""
    samples: dict[str, dict[str, list[dict[str, float]]]] = {
        client: {variant: [] for variant in variants} for client, variants in VARIANTS.items()
    }
    with _credentials(), canned_server() as origin:
        environment = dict(os.environ)
        for run in range(runs + 1):  # the first, unmeasured, fills the bytecode caches
            for client, variants in VARIANTS.items():
                order = variants[run % len(variants) :] + variants[: run % len(variants)]
                for variant in order:
                    measured = _child(client, variant, origin, environment)
                    if run:
                        samples[client][variant].append(measured)
    return {
        client: {
            variant: {
                "cpuMs": round(statistics.median(s["cpuMs"] for s in runs_), 1),
                "modules": round(statistics.median(s["modules"] for s in runs_)),
            }
            for variant, runs_ in variants.items()
        }
        for client, variants in samples.items()
    }


def _child(client: str, variant: str, origin: str, environment: dict[str, str]) -> dict[str, float]:
    finished = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-I", "-c", _FIRST_CALL, str(ROOT), str(LAYER), client, variant, origin],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    measured: dict[str, float] = json.loads(finished.stdout.strip().splitlines()[-1])
    return measured


# ---------------------------------------------------------------------- lines


def lines(parts: list[tuple[Path, tuple[str, ...]]]) -> dict[str, Any]:
    """The lines and code lines (no blank line, comment or docstring) of the named
    top-level definitions of each file."""
    total = code = 0
    for path, names in parts:
        source = path.read_text(encoding="utf-8")
        code_lines = _code_lines(source)
        for node in ast.parse(source).body:
            if getattr(node, "name", None) in names:
                span = set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
                total += len(span)
                code += len(span & code_lines)
    return {
        "definitions": [
            f"{path.relative_to(ROOT)}:{name}" for path, names in parts for name in names
        ],
        "lines": total,
        "codeLines": code,
    }


def shared_lines() -> dict[str, Any]:
    """The protocol code of both variants: SHARED's code lines less the hand-written wire's."""
    wire = {name for _, names in WIRES["handWritten"] for name in names}
    total = code = 0
    for path in SHARED:
        source = path.read_text(encoding="utf-8")
        code_lines = _code_lines(source)
        for node in ast.parse(source).body:
            if getattr(node, "name", None) not in wire:
                span = set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
                total += len(span)
                code += len(span & code_lines)
    return {"files": [str(p.relative_to(ROOT)) for p in SHARED], "lines": total, "codeLines": code}


def _code_lines(source: str) -> set[int]:
    """The numbers of the lines that hold code: not blank, not only a comment, not in a
    docstring."""
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings.update(range(body[0].lineno, (body[0].end_lineno or 0) + 1))
    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    found: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped and token.type != tokenize.ENDMARKER:
            found.update(range(token.start[0], token.end[0] + 1))
    return found - docstrings


# ---------------------------------------------------------------------- the run


def run(calls: int = 100, rounds: int = 8, runs: int = 5) -> dict[str, Any]:
    return {
        "calls": calls,
        "rounds": rounds,
        "runs": runs,
        "cpuPerRequest": cpu_per_request(calls, rounds),
        "signing": signing(calls * 10, rounds),
        "firstCall": first_calls(runs),
        "lines": {
            **{variant: lines(parts) for variant, parts in WIRES.items()},
            "sharedProtocol": shared_lines(),
        },
    }


LABELS = {
    "handWritten": "hand-written (http.client, parley's SigV4)",
    "urllib3": "urllib3 + botocore's SigV4Auth",
    "botocore": "botocore's client (pynamodb's)",
    "boto3": "boto3's client",
}


def table(result: dict[str, Any]) -> str:
    cpu = result["cpuPerRequest"]
    out = [
        f"Client thread CPU per request, ms (median of {result['rounds']} interleaved rounds of "
        f"{result['calls']} requests; x the hand-written transport in the same round)",
        "",
        "| request | " + " | ".join(LABELS[v] for v in VARIANTS["dynamodb"]) + " |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind in (*OPERATIONS, "post"):
        if kind == "post":
            out.append(
                "| **@connections** | "
                + " | ".join(LABELS[v] for v in VARIANTS["connections"])
                + " |"
            )
        label = "post (one live connection)" if kind == "post" else f"DynamoDB {kind}"
        cells = [f"{cpu[kind][v]['ms']:.3f} (x{cpu[kind][v]['ratio']:.2f})" for v in cpu[kind]]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    signed = result["signing"]
    out.append(
        f"| signing alone (PutItem, no I/O) | {signed['handWritten']['ms']:.3f} (parley's "
        f"sigv4) | {signed['urllib3']['ms']:.3f} (x{signed['urllib3']['ratio']:.2f}, "
        "SigV4Auth) | |"
    )
    first = result["firstCall"]
    out += [
        "",
        f"A process's first call after pynamodb's import: CPU ms and modules imported (median of "
        f"{result['runs']} fresh interpreters)",
        "",
        "| client | variant | CPU ms | modules |",
        "| --- | --- | ---: | ---: |",
    ]
    for client, variants in first.items():
        for variant, figures in variants.items():
            out.append(
                f"| {client} | {LABELS[variant]} | {figures['cpuMs']:.1f} | {figures['modules']} |"
            )
    counted = result["lines"]
    out += ["", "| code | what | lines | code lines |", "| --- | --- | ---: | ---: |"]
    for name, label in (
        ("handWritten", "hand-written wire"),
        ("urllib3", "urllib3 + SigV4Auth wire"),
        ("sharedProtocol", "protocol code, the same for both"),
    ):
        figures = counted[name]
        parts = figures.get("definitions") or figures["files"]
        what = ", ".join(f"`{part.rsplit('/', 1)[-1]}`" for part in parts)
        out.append(f"| {label} | {what} | {figures['lines']} | {figures['codeLines']} |")
    return "\n".join(out)
