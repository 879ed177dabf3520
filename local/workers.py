"""Lambda functions as warm worker processes.

Each function gets a pool of workers (local.worker_main in its own interpreter, its own
`sys.path` and environment), grown on demand up to a cap (`worker_cap`) so that concurrent
invocations run concurrently, as Lambda runs them in separate sandboxes. A worker runs one
invocation at a time; a timeout or a crash ends the worker, as it ends a sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.intrinsics import REGION
from local.sam import FunctionSpec

log = logging.getLogger(__name__)
function_log = logging.getLogger("local.functions")

WORKER_SCRIPT = Path(__file__).with_name("worker_main.py")
# Lambda's synchronous invocation limits, request and response.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
# Lambda allows 10 s of init; a loaded laptop importing seven functions at once needs more.
INIT_TIMEOUT_S = 30.0
_READ_LIMIT = 4 * MAX_PAYLOAD_BYTES
_LOG_LINE_LIMIT = 1024 * 1024


class PayloadTooLarge(Exception):
    """The event exceeds Lambda's invocation payload limit; the function never runs."""


@dataclass(frozen=True)
class Invocation:
    """What an invocation returned: a payload, or Lambda's error document."""

    request_id: str
    payload: Any = None
    error: Mapping[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


def _error(error_type: str, message: str) -> dict[str, Any]:
    return {"errorType": error_type, "errorMessage": message}


class _InitFailed(Exception):
    def __init__(self, error: Mapping[str, Any]) -> None:
        super().__init__(error.get("errorMessage"))
        self.error = error


def lambda_environment(
    spec: FunctionSpec, variables: Mapping[str, str], local: Mapping[str, str]
) -> dict[str, str]:
    """The environment Lambda gives a function: a clean base, the template's variables, then
    the reserved variables (which a template cannot override) and `local`'s endpoints."""
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        **variables,
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # What SAM CLI sets; libraries (Powertools' tracer) use it to know they run locally.
        "AWS_SAM_LOCAL": "true",
        **local,
    }


class _Worker:
    """One worker process and its end of the invocation channel."""

    def __init__(
        self,
        spec: FunctionSpec,
        process: asyncio.subprocess.Process,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        log_tasks: list[asyncio.Task[None]],
    ) -> None:
        self._spec = spec
        self._process = process
        self._reader = reader
        self._writer = writer
        self._log_tasks = log_tasks
        self.alive = True

    @classmethod
    async def start(cls, spec: FunctionSpec, environment: Mapping[str, str]) -> _Worker:
        parent_end, child_end = socket.socketpair()
        stream = datetime.datetime.now(datetime.UTC).strftime("%Y/%m/%d")
        env = {**environment, "AWS_LAMBDA_LOG_STREAM_NAME": f"{stream}/[$LATEST]{uuid.uuid4().hex}"}
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",  # isolated: no PYTHONPATH, user site or script directory on sys.path
                "-u",  # unbuffered, so that log lines arrive as they are written
                str(WORKER_SCRIPT),
                str(child_end.fileno()),
                str(spec.code_dir),
                spec.handler,
                *(str(layer) for layer in spec.layer_dirs),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                pass_fds=(child_end.fileno(),),
                # Its own session: Ctrl-C reaches the stack, which stops workers in order.
                start_new_session=True,
                limit=_LOG_LINE_LIMIT,
            )
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
        reader, writer = await asyncio.open_connection(sock=parent_end, limit=_READ_LIMIT)
        assert process.stdout is not None
        assert process.stderr is not None
        log_tasks = [
            asyncio.create_task(_forward_log(spec.logical_id, process.stdout)),
            asyncio.create_task(_forward_log(spec.logical_id, process.stderr)),
        ]
        worker = cls(spec, process, reader, writer, log_tasks)
        try:
            hello = await asyncio.wait_for(reader.readline(), INIT_TIMEOUT_S)
            message = json.loads(hello) if hello else {}
        except (TimeoutError, ValueError):
            message = {}
        if "ready" not in message:
            await worker.stop()
            raise _InitFailed(
                message.get("initError")
                or _error("Runtime.ExitError", f"{spec.logical_id} did not start")
            )
        return worker

    async def invoke(self, event_json: str, request_id: str) -> Invocation:
        timeout_s = self._spec.timeout_s
        request = (
            f'{{"requestId":{json.dumps(request_id)},'
            f'"deadlineMs":{int((time.time() + timeout_s) * 1000)},'
            f'"invokedFunctionArn":{json.dumps(self._spec.arn)},'
            f'"event":{event_json}}}\n'
        )
        try:
            self._writer.write(request.encode())
            await self._writer.drain()
            reply = await asyncio.wait_for(self._reader.readline(), timeout_s)
        except TimeoutError:
            await self.stop()
            message = f"Task timed out after {timeout_s:.2f} seconds"
            function_log.error("[%s] %s %s", self._spec.logical_id, request_id, message)
            return Invocation(request_id, error=_error("Sandbox.Timedout", message))
        except (OSError, ValueError):
            # The worker died, or wrote a line longer than any valid response.
            reply = b""
        except asyncio.CancelledError:
            await self.stop()  # mid-invocation, the worker's state is unknown
            raise
        if not reply:
            with contextlib.suppress(TimeoutError):  # let an exiting worker say how it ended
                await asyncio.wait_for(self._process.wait(), 1)
            message = f"Runtime exited with error: exit status {self._process.returncode}"
            await self.stop()
            return Invocation(request_id, error=_error("Runtime.ExitError", message))
        if len(reply) > MAX_PAYLOAD_BYTES:
            message = f"Response payload size ({len(reply)} bytes) exceeded maximum allowed"
            return Invocation(request_id, error=_error("Function.ResponseSizeTooLarge", message))
        outcome = json.loads(reply)
        if "error" in outcome:
            return Invocation(request_id, error=outcome["error"])
        return Invocation(request_id, payload=outcome["result"])

    async def stop(self) -> None:
        """Ends the worker at once, busy or not, as Lambda ends a sandbox: no shutdown hook
        runs (Lambda offers none without extensions), and the interpreter's teardown, half
        a second with boto3 loaded, is skipped."""
        self.alive = False
        self._writer.close()
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()
        await self._process.wait()
        await asyncio.gather(*self._log_tasks, return_exceptions=True)


async def _forward_log(function: str, stream: asyncio.StreamReader) -> None:
    """Copies a worker's output into the runtime's log, each line prefixed by its function.
    Reading on, whatever comes, matters: a full pipe would block the function."""
    while True:
        try:
            line = await stream.readline()
        except ValueError:  # asyncio dropped a line longer than the reader's limit
            function_log.info("[%s] (a line over %d bytes, not shown)", function, _LOG_LINE_LIMIT)
            continue
        if not line:
            return
        function_log.info("[%s] %s", function, line.decode(errors="replace").rstrip())


def default_worker_cap(cpus: int | None = None) -> int:
    """Workers per function when the template reserves no concurrency: 8 per core, from 8
    to 32. Lambda would scale an unreserved function to the account's limit (1,000); a
    machine runs out of cores and memory (60 to 100 MB a worker) long before. A worker
    spends most of an invocation waiting on moto and the gateway, so a function needs
    several per core to keep the cores busy: on two cores the soak's sendMessage reached
    15 messages/s with 4, 18 with 8, 19 with 16, queueing at the pool each time; with moto's
    costs cut, 28 with 8 (its sends waiting 1.3 s for a worker) and 29 with 16 (0.4 s), at
    the 30 asked (bench/results/LOG.md)."""
    return min(32, max(8, 8 * (cpus or os.cpu_count() or 1)))


def worker_cap(spec: FunctionSpec, default_cap: int, queue_concurrency: int = 0) -> int:
    """How many invocations of a function run at once: its reserved concurrency when the
    template sets one (as Lambda, which never runs more), otherwise the stack's default, and
    at least `queue_concurrency`, the sum of its SQS sources' MaximumConcurrency: Lambda
    runs that many batches at once (the fan-out queue's consumers, FanoutConcurrency), and
    the local pollers take that many, so their invocations must not wait for a worker."""
    if spec.reserved_concurrency is not None:
        return spec.reserved_concurrency
    return max(default_cap, queue_concurrency)


class FunctionPool:
    """The warm workers of one function: at most `max_workers` invocations at once, the
    others waiting their turn. With no workers at all (a reserved concurrency of 0),
    every invocation is throttled, as Lambda throttles it."""

    def __init__(
        self, spec: FunctionSpec, environment: Mapping[str, str], max_workers: int = 4
    ) -> None:
        self.spec = spec
        self._environment = dict(environment)
        self._max_workers = max_workers
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._starting = 0
        self._changed = asyncio.Condition()
        self._inflight: set[asyncio.Task[Invocation]] = set()
        # Invocations run so far, and the most that ran at once (tests and benchmarks).
        self.invocations = 0
        self.peak_concurrency = 0
        self._running = 0

    async def warm(self) -> None:
        """Starts a worker ahead of the first invocation, as a provisioned sandbox would."""
        if not self._max_workers:
            return
        try:
            worker = await self._acquire()
        except _InitFailed as failure:
            log.error("%s failed to start: %s", self.spec.logical_id, failure)
            return
        await self._release(worker)

    async def invoke(self, event: Any) -> Invocation:
        """Runs one invocation. Cancelling the caller (a client that hung up, a gateway
        timeout) does not cancel the invocation: it completes, as it would in Lambda."""
        event_json = json.dumps(event)
        if len(event_json) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLarge(f"{len(event_json)} bytes exceeds {MAX_PAYLOAD_BYTES}")
        task = asyncio.create_task(self._invoke(event_json, str(uuid.uuid4())))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return await asyncio.shield(task)

    async def _invoke(self, event_json: str, request_id: str) -> Invocation:
        if not self._max_workers:
            return Invocation(
                request_id, error=_error("TooManyRequestsException", "Rate Exceeded.")
            )
        try:
            worker = await self._acquire()
        except _InitFailed as failure:
            return Invocation(request_id, error=failure.error)
        self.invocations += 1
        self._running += 1
        self.peak_concurrency = max(self.peak_concurrency, self._running)
        try:
            return await worker.invoke(event_json, request_id)
        finally:
            self._running -= 1
            await self._release(worker)

    async def _acquire(self) -> _Worker:
        async with self._changed:
            await self._changed.wait_for(
                lambda: bool(self._idle) or len(self._workers) + self._starting < self._max_workers
            )
            if self._idle:
                return self._idle.pop()
            self._starting += 1
        try:
            worker = await _Worker.start(self.spec, self._environment)
        finally:
            async with self._changed:
                self._starting -= 1
                self._changed.notify()
        self._workers.add(worker)
        return worker

    async def _release(self, worker: _Worker) -> None:
        async with self._changed:
            if worker.alive:
                self._idle.append(worker)
            else:
                self._workers.discard(worker)
            self._changed.notify()

    async def stop(self) -> None:
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)
        await asyncio.gather(*(worker.stop() for worker in self._workers))
        self._workers.clear()
        self._idle.clear()
