"""Fuzzing the HTTP API from its own OpenAPI document (docs/openapi.json) with schemathesis.

Every operation gets cases generated from the document, valid and invalid, half of them
aimed at real resources (a workspace, channel, message and invite of the fuzzing user's)
so that they get past the 404s. Each reply must be no 5xx, carry a status the document
declares for the operation, and a body matching that status's schema. The run is
derandomized: the same cases every time, so a failure reproduces.

PARLEY_FUZZ_EXAMPLES sets the cases per operation and generation mode (`make fuzz` runs
a larger number); the default keeps `make test` within about two minutes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.stack import PROJECT_ROOT, Stack
from tests.integration.conftest import _session_stack

pytestmark = pytest.mark.integration

DOCUMENT = PROJECT_ROOT / "docs" / "openapi.json"
EXAMPLES = int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own, so the fuzzer's thousands of items and its rate-limited users
    stay out of the session stack. (It was first split off because the session stack's
    stream consumers went quiet after a fuzz run: moto's cancelled transactions, fixed in
    local/moto_main.py; see docs/reliability.md.)"""
    yield from _session_stack(
        PROJECT_ROOT / "template.yaml",
        tmp_path_factory.mktemp("fuzz-stack"),
        prewarm=False,
        search=True,
    )


def _real_ids(stack: Stack, token: str) -> dict[str, str]:
    """A workspace, a channel with a message, and an invite: what path parameters name."""
    session = requests.Session()
    session.headers["authorization"] = f"Bearer {token}"
    base = stack.http_url

    def call(method: str, path: str, body: Any = None) -> Any:
        reply = session.request(method, f"{base}{path}", json=body, timeout=30)
        assert reply.status_code < 300, reply.text
        return reply.json() if reply.content else None

    wid = call("POST", "/workspaces", {"name": "Fuzz"})["workspace"]["id"]
    cid = call("POST", f"/workspaces/{wid}/channels", {"name": "fuzz"})["channel"]["id"]
    ts = call("POST", f"/channels/{cid}/messages", {"text": "fuzz me"})["message"]["ts"]
    code = call("POST", f"/workspaces/{wid}/invites")["invite"]["code"]
    return {"wid": wid, "cid": cid, "ts": ts, "threadTs": ts, "code": code, "name": "tada"}


def test_the_http_api_survives_fuzzing_and_answers_as_documented(fuzz_stack: Stack) -> None:
    stack = fuzz_stack
    token = stack.login("fuzzer").access_token
    real = _real_ids(stack, token)
    schema = schemathesis.openapi.from_path(DOCUMENT)
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    cases = 0
    statuses: dict[int, int] = {}
    failures: list[str] = []
    started = time.monotonic()

    for result in schema.get_all_operations():
        operation = result.ok()
        known = {name: real[name] for name in real if f"{{{name}}}" in operation.path}
        strategies = [operation.as_strategy(mode) for mode in GenerationMode]
        if known:
            strategies += [
                operation.as_strategy(mode, path_parameters=known) for mode in GenerationMode
            ]

        @settings(
            max_examples=EXAMPLES * len(strategies),
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def exercise(case: Any) -> None:
            nonlocal cases
            response = case.call(base_url=stack.http_url, session=session, headers=headers)
            cases += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            exercise()
        except (Exception, FailureGroup) as failure:  # report every operation's
            failures.append(f"{operation.label}: {str(failure)[:2000]}")

    report = {
        "cases": cases,
        "operations": len(list(schema.get_all_operations())),
        "statuses": dict(sorted(statuses.items())),
        "seconds": round(time.monotonic() - started, 1),
    }
    print(f"fuzzing: {json.dumps(report)}")  # the figures for bench/results/LOG.md
    assert failures == [], "\n\n".join(failures)
    assert cases >= 1000, report
