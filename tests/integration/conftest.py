"""Integration fixtures: local stacks started once per pytest session.

- `stack`: Parley itself (template.yaml), on free ports, without the demo seed. Use
  `stack.http_url`, `stack.ws_url`, `stack.describe()["cognito"]`, and `stack.login(name)`,
  which creates, confirms and logs in a user (`<name>@example.com`) and returns its tokens.
- `runtime_stack`: the local runtime's own fixture application
  (tests/integration/fixtures/runtime), for the runtime's tests; `results` reads what its
  functions recorded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from local.search_node import search_services
from local.stack import PROJECT_ROOT, Stack, StackConfig

FIXTURES = Path(__file__).parent / "fixtures"


def _session_stack(
    template: Path,
    state_dir: Path,
    *,
    prewarm: bool,
    search: bool = False,
    parameters: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    config = StackConfig(
        template=template,
        state_dir=state_dir,
        http_port=0,
        ws_port=0,
        aws_port=0,
        poll_interval_s=0.05,
        prewarm=prewarm,
        services=search_services(port=0) if search else (),
        parameters=parameters or {},
    )
    with Stack(config) as stack:
        yield stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Functions start on first use, as cold Lambdas do: a session pays only for those it calls.
    yield from _session_stack(
        PROJECT_ROOT / "template.yaml",
        tmp_path_factory.mktemp("stack"),
        prewarm=False,
        search=True,
        # The Events API's retries 1, 2 and 3 after 0, 1 and 1 s instead of 0, 60 and 300:
        # the retry and pausing test sees every attempt (tests/integration/test_apps.py).
        parameters={"EventsRetryDelays": "0,1,1"},
    )


@pytest.fixture(scope="session")
def runtime_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from _session_stack(
        FIXTURES / "runtime" / "template.yaml",
        tmp_path_factory.mktemp("runtime-stack"),
        prewarm=True,
    )


class Results:
    """What the fixture functions recorded in ResultsTable: visits and their latest values."""

    def __init__(self, stack: Stack) -> None:
        self._dynamodb = stack.aws("dynamodb") if stack.aws else None
        self._table = "parley-local-ResultsTable"

    def get(self, key: str) -> tuple[int, dict[str, Any]]:
        assert self._dynamodb is not None
        item = self._dynamodb.get_item(TableName=self._table, Key={"PK": {"S": key}}).get("Item")
        if not item:
            return 0, {}
        return int(item["visits"]["N"]), json.loads(item["body"]["S"])

    def wait_for(self, key: str, visits: int = 1, timeout_s: float = 10) -> dict[str, Any]:
        """The values recorded under `key` once it has been visited `visits` times."""
        deadline = time.monotonic() + timeout_s
        while True:
            seen, values = self.get(key)
            if seen >= visits:
                return values
            if time.monotonic() > deadline:
                raise AssertionError(f"{key}: {seen} visits, expected {visits}")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def results(runtime_stack: Stack) -> Results:
    return Results(runtime_stack)
