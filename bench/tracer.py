"""What Powertools' Tracer would cost the HTTP API function (ApiFunction): its cold start
(a fresh interpreter importing the handler, with and without `Tracer()` and its patching of
botocore, requests and http.client) and each request (the same handler, in process against
moto, with and without `@tracer.capture_lambda_handler`, X-Ray enabled as in Lambda: the
segments go over UDP to the daemon's address, where nothing listens here).

    .venv/bin/python -m bench.tracer [--quick]

The figures and the decision are in docs/decisions.md ("No Tracer").
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import coldstart

_TRACED_APP = '''"""ApiFunction's handler under Powertools' Tracer, as a traced one has it."""
from aws_lambda_powertools import Tracer

tracer = Tracer()
import app  # noqa: E402 - after Tracer(), which patches the clients app's imports make

lambda_handler = tracer.capture_lambda_handler(app.lambda_handler)
'''


def cold_starts(runs: int) -> dict[str, Any]:
    api = next(t for t in coldstart.targets() if t.name == "ApiFunction")
    with tempfile.TemporaryDirectory(prefix="bench-tracer-") as scratch:
        Path(scratch, "traced_app.py").write_text(_TRACED_APP)
        traced = dataclasses.replace(
            api,
            name="ApiFunction+Tracer",
            code_dir=Path(scratch),
            layer_dirs=(api.code_dir, *api.layer_dirs),
            handler="traced_app.lambda_handler",
        )
        samples: dict[str, list[float]] = {"plain": [], "traced": []}
        for _ in range(runs):  # interleaved: the machine's noise falls on both alike
            samples["plain"].append(coldstart.one_run(api)["readyMs"])
            samples["traced"].append(coldstart.one_run(traced)["readyMs"])
    # The minimum is the least disturbed run (a shared machine's noise only adds time).
    result: dict[str, Any] = {"runs": runs}
    for stat in ("median", "min"):
        plain, traced_ms = (getattr(statistics, stat, min)(samples[k]) for k in samples)
        result[stat] = {"plainMs": round(plain, 1), "tracedMs": round(traced_ms, 1),
                        "addedMs": round(traced_ms - plain, 1)}  # fmt: skip
    return result


def per_request(requests: int) -> dict[str, Any]:
    """Median wall time of GET /channels/{cid}/messages (a channel read and a page of
    messages: three DynamoDB calls), plain and traced, in one process against moto."""
    os.environ.update(
        LAMBDA_TASK_ROOT="/var/task",  # Tracer is enabled only inside Lambda
        AWS_LAMBDA_FUNCTION_NAME="ApiFunction",
        _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR",
        POWERTOOLS_SERVICE_NAME="parley",
    )
    from aws_lambda_powertools import Tracer
    from moto import mock_aws

    # The functional tests' handler driver and moto table (imported by name: bench is checked
    # by mypy on its own, without the tests' settings).
    conftest: Any = importlib.import_module("tests.functional.conftest")

    for key, value in conftest.ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    with mock_aws():
        conftest.create_table_from_template(conftest.TABLE)
        api = conftest.Api()
        _, created = api("POST", "/workspaces", body={"name": "Bench"})
        wid = created["workspace"]["id"]
        _, listed = api("GET", f"/workspaces/{wid}/channels")
        cid = listed["channels"][0]["id"]
        for n in range(20):
            api("POST", f"/channels/{cid}/messages", body={"text": f"message {n}"})
        plain_handler = api._handler
        traced_handler = Tracer().capture_lambda_handler(plain_handler)
        timings: dict[str, list[float]] = {"plain": [], "traced": []}
        for _ in range(requests):
            for name, handler in (("plain", plain_handler), ("traced", traced_handler)):
                api._handler = handler
                start = time.perf_counter()
                status, _ = api("GET", f"/channels/{cid}/messages")
                timings[name].append((time.perf_counter() - start) * 1000)
                assert status == 200
    plain, traced = (statistics.median(timings[k]) for k in ("plain", "traced"))
    return {"requests": requests, "plainMs": round(plain, 2), "tracedMs": round(traced, 2),
            "addedMs": round(traced - plain, 2)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tracer", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 cold starts, 50 requests")
    arguments = parser.parse_args(argv)
    result = {
        "coldStart": cold_starts(5 if arguments.quick else 15),
        "perRequest": per_request(50 if arguments.quick else 300),
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
