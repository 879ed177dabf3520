"""Function workers: Lambda's invocation contract, process by process."""

from __future__ import annotations

import asyncio
import logging
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from local.sam import FunctionSpec
from local.workers import FunctionPool, Invocation, PayloadTooLarge, lambda_environment

pytestmark = pytest.mark.integration

T = TypeVar("T")

HANDLER = """
import json, os, sys, time

def lambda_handler(event, context):
    action = event.get("action")
    if action == "raise":
        raise ValueError("bad input")
    if action == "exit":
        sys.exit(3)
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "print":
        print("hello from the function")
    if action == "shout":
        print("x" * 2_000_000)
    if action == "unserializable":
        return {"value": object()}
    return {
        "pid": os.getpid(),
        "remaining": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "name": context.function_name,
    }
"""


def spec_for(tmp_path: Path, code: str = HANDLER, timeout_s: float = 1.5) -> FunctionSpec:
    code_dir = tmp_path / "fn"
    code_dir.mkdir(exist_ok=True)
    (code_dir / "app.py").write_text(textwrap.dedent(code))
    return FunctionSpec(
        logical_id="TestFunction",
        name="test-function",
        code_dir=code_dir,
        handler="app.lambda_handler",
        runtime="python3.12",
        timeout_s=timeout_s,
        memory_mb=256,
        layer_dirs=(),
        environment={},
    )


def with_pool(spec: FunctionSpec, work: Callable[[FunctionPool], Awaitable[T]]) -> T:
    async def run() -> T:
        pool = FunctionPool(spec, lambda_environment(spec, {}, {}), max_workers=2)
        try:
            return await work(pool)
        finally:
            await pool.stop()

    return asyncio.run(run())


def test_an_invocation_gets_a_lambda_context(tmp_path: Path) -> None:
    result = with_pool(spec_for(tmp_path), lambda pool: pool.invoke({}))
    assert not result.failed
    assert result.payload["request_id"] == result.request_id
    assert result.payload["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    assert result.payload["memory"] == "256"
    assert result.payload["name"] == "test-function"
    assert 1000 < result.payload["remaining"] <= 1500


def test_a_handler_exception_is_reported_like_lambda(tmp_path: Path) -> None:
    result = with_pool(spec_for(tmp_path), lambda pool: pool.invoke({"action": "raise"}))
    assert result.error is not None
    assert result.error["errorType"] == "ValueError"
    assert result.error["errorMessage"] == "bad input"
    assert any("app.py" in line for line in result.error["stackTrace"])


def test_an_unserializable_result_is_a_marshal_error(tmp_path: Path) -> None:
    result = with_pool(spec_for(tmp_path), lambda pool: pool.invoke({"action": "unserializable"}))
    assert result.error is not None
    assert result.error["errorType"] == "Runtime.MarshalError"


def test_a_timeout_ends_the_worker_and_the_next_invocation_gets_a_fresh_one(
    tmp_path: Path,
) -> None:
    async def work(pool: FunctionPool) -> tuple[Invocation, Invocation, Invocation]:
        first = await pool.invoke({})
        timed_out = await pool.invoke({"action": "sleep", "seconds": 5})
        return first, timed_out, await pool.invoke({})

    started = time.monotonic()
    first, timed_out, after = with_pool(spec_for(tmp_path, timeout_s=0.5), work)
    assert time.monotonic() - started < 4
    assert timed_out.error is not None
    assert timed_out.error["errorType"] == "Sandbox.Timedout"
    assert "timed out after 0.50 seconds" in timed_out.error["errorMessage"]
    assert not after.failed
    assert after.payload["pid"] != first.payload["pid"]


def test_a_handler_that_exits_is_a_runtime_exit_error(tmp_path: Path) -> None:
    async def work(pool: FunctionPool) -> tuple[Invocation, Invocation]:
        return await pool.invoke({"action": "exit"}), await pool.invoke({})

    exited, after = with_pool(spec_for(tmp_path), work)
    assert exited.error is not None
    assert exited.error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in exited.error["errorMessage"]
    assert not after.failed


def test_an_import_error_fails_every_invocation_like_an_init_error(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, code="import not_a_module\n")
    result = with_pool(spec, lambda pool: pool.invoke({}))
    assert result.error is not None
    assert result.error["errorType"] == "Runtime.ImportModuleError"
    assert "not_a_module" in result.error["errorMessage"]


def test_concurrent_invocations_run_in_parallel_workers(tmp_path: Path) -> None:
    async def work(pool: FunctionPool) -> list[Invocation]:
        await pool.warm()
        started = time.monotonic()
        results = await asyncio.gather(
            *(pool.invoke({"action": "sleep", "seconds": 0.8}) for _ in range(2))
        )
        assert time.monotonic() - started < 1.5
        return list(results)

    results = with_pool(spec_for(tmp_path), work)
    assert len({result.payload["pid"] for result in results}) == 2


def test_function_output_is_logged_with_its_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def work(pool: FunctionPool) -> Invocation:
        result = await pool.invoke({"action": "print"})
        await pool.stop()  # drains the worker's output
        return result

    with caplog.at_level(logging.INFO, logger="local.functions"):
        with_pool(spec_for(tmp_path), work)
    assert "[TestFunction] hello from the function" in caplog.messages


def test_a_huge_log_line_does_not_block_the_function(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def work(pool: FunctionPool) -> Invocation:
        result = await pool.invoke({"action": "shout"})
        await pool.stop()
        return result

    with caplog.at_level(logging.INFO, logger="local.functions"):
        assert not with_pool(spec_for(tmp_path), work).failed
    assert any("a line over" in message for message in caplog.messages)


def test_an_event_over_lambdas_payload_limit_is_refused(tmp_path: Path) -> None:
    async def work(pool: FunctionPool) -> Any:
        return await pool.invoke({"data": "x" * (6 * 1024 * 1024)})

    with pytest.raises(PayloadTooLarge):
        with_pool(spec_for(tmp_path), work)


def test_a_function_reserved_to_no_concurrency_is_throttled_without_starting(
    tmp_path: Path,
) -> None:
    async def run() -> tuple[Invocation, int]:
        spec = spec_for(tmp_path)
        pool = FunctionPool(spec, lambda_environment(spec, {}, {}), max_workers=0)
        await pool.warm()
        try:
            return await pool.invoke({}), len(pool._workers)
        finally:
            await pool.stop()

    throttled, workers = asyncio.run(run())
    assert throttled.error is not None
    assert throttled.error["errorType"] == "TooManyRequestsException"
    assert workers == 0
