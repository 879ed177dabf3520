"""The inside of a function worker: imports one Lambda handler and runs invocations, one at a
time, as the Lambda Python runtime does.

local.workers starts this file by path, with `python -I -u`, in a fresh process whose
environment is the function's. It imports only the standard library, so the function's
`sys.path` holds its CodeUri, then its layers, then the interpreter's own packages, and
nothing of the local runtime: two functions that both have an `app.py` never meet.

Protocol, over the socket whose descriptor is argv[1], one JSON document per line:
  worker -> parent  {"ready": true} | {"initError": {...}}            once, after the import
  parent -> worker  {"event", "requestId", "deadlineMs", "invokedFunctionArn"}  per invocation
  worker -> parent  {"result": ...} | {"error": {...}}                  per invocation
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any


class LambdaContext:
    """The attributes and method of the Lambda Python runtime's context object."""

    def __init__(self, request: dict[str, Any]) -> None:
        env = os.environ
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = request["invokedFunctionArn"]
        self.memory_limit_in_mb = env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.aws_request_id = request["requestId"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = request["deadlineMs"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _stack_trace(exception: BaseException) -> list[str]:
    """The traceback below this runtime's own frame, as Lambda reports it."""
    frames = exception.__traceback__
    return traceback.format_tb(frames.tb_next if frames else None)


def _error(exception: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exception),
        "errorType": error_type or type(exception).__name__,
        "stackTrace": _stack_trace(exception),
    }


def _log_error(exception: BaseException) -> None:
    """Lambda writes an unhandled error to the function's log; so do we."""
    print(
        f"[ERROR] {type(exception).__name__}: {exception}",
        "Traceback (most recent call last):",
        "".join(_stack_trace(exception)).rstrip(),
        sep="\n",
        file=sys.stderr,
    )


def _to_json(value: Any) -> str:
    """JSON as the Lambda runtime marshals it: Decimal (DynamoDB numbers) becomes a number."""

    def decimal_default(item: Any) -> Any:
        if isinstance(item, decimal.Decimal):
            return int(item) if item == item.to_integral_value() else float(item)
        raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")

    return json.dumps(value, default=decimal_default)


def _load_handler(spec: str) -> Callable[[Any, LambdaContext], Any]:
    module_name, _, function_name = spec.rpartition(".")
    module = importlib.import_module(module_name.replace("/", "."))
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise AttributeError(f"Handler '{function_name}' missing on module '{module_name}'")
    return handler


def main() -> None:
    channel_fd, code_dir, handler_spec, *layer_dirs = sys.argv[1:]
    # `python -I` leaves only the interpreter's own paths; Lambda puts the code, then the
    # layers, in front of them.
    sys.path[:0] = [code_dir, *layer_dirs]
    os.chdir(code_dir)
    channel = socket.socket(fileno=int(channel_fd))
    reader, writer = channel.makefile("rb"), channel.makefile("wb")

    def send(kind: str, payload_json: str) -> None:
        writer.write(f'{{"{kind}":{payload_json}}}\n'.encode())
        writer.flush()

    try:
        handler = _load_handler(handler_spec)
    except Exception as exception:
        _log_error(exception)
        kind = "Runtime.ImportModuleError" if isinstance(exception, ImportError) else None
        send("initError", json.dumps(_error(exception, kind)))
        return
    send("ready", "true")

    # A handler calling sys.exit() ends this loop and the process, as it ends a Lambda
    # sandbox; the parent reports Runtime.ExitError.
    for line in reader:
        request = json.loads(line)
        context = LambdaContext(request)
        try:
            result = handler(request["event"], context)
        except Exception as exception:
            _log_error(exception)
            send("error", json.dumps(_error(exception)))
            continue
        try:
            payload = _to_json(result)
        except (TypeError, ValueError) as exception:
            send("error", json.dumps(_error(exception, "Runtime.MarshalError")))
            continue
        send("result", payload)


if __name__ == "__main__":
    main()
