"""What Powertools' Tracer costs the HTTP API function (ApiFunction): its cold start (a fresh
interpreter's init of the handler as deployed, against the same with POWERTOOLS_TRACE_DISABLED,
so that `Tracer()` neither loads nor patches the X-Ray SDK) and each request (the handler in
process against moto, with the X-Ray SDK enabled as in Lambda or switched off: the segments
go over UDP to the daemon's address, where nothing listens here).

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
import time
from typing import Any

from bench import coldstart


def cold_starts(runs: int) -> dict[str, Any]:
    """ApiFunction's init as deployed (its Tracer on), and with POWERTOOLS_TRACE_DISABLED,
    under which Tracer() neither loads nor patches the X-Ray SDK."""
    traced = next(t for t in coldstart.targets() if t.name == "ApiFunction")
    plain = dataclasses.replace(
        traced, environment={**traced.environment, "POWERTOOLS_TRACE_DISABLED": "true"}
    )
    samples: dict[str, list[float]] = {"plain": [], "traced": []}
    for _ in range(runs):  # interleaved: the machine's noise falls on both alike
        samples["plain"].append(coldstart.one_run(plain)["readyMs"])
        samples["traced"].append(coldstart.one_run(traced)["readyMs"])
    # The minimum is the least disturbed run (a shared machine's noise only adds time).
    result: dict[str, Any] = {"runs": runs}
    for stat in ("median", "min"):
        plain_ms, traced_ms = (getattr(statistics, stat, min)(samples[k]) for k in samples)
        result[stat] = {"plainMs": round(plain_ms, 1), "tracedMs": round(traced_ms, 1),
                        "addedMs": round(traced_ms - plain_ms, 1)}  # fmt: skip
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
        from aws_xray_sdk import global_sdk_config

        timings: dict[str, list[float]] = {"plain": [], "traced": []}
        for _ in range(requests):
            for name, enabled in (("plain", False), ("traced", True)):
                global_sdk_config.set_sdk_enabled(enabled)  # off: no segment, no patched call
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
