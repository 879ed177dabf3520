"""One logger and one metrics object for every function (Powertools).

Every handler runs under `logger.inject_lambda_context(correlation_id_path=..., clear_state=True)`
(the request's id as `correlation_id`; no key of the previous invocation left behind) and
`metrics.log_metrics` (the invocation's metrics flushed as one EMF line): tests hold every
function to it (tests/functional/test_observability.py). Log with context (the user, the
connection, the channel), never a token: a JWT, a bot token, a webhook's or response_url's
path token, a signing secret.

Tracer only where it pays (docs/decisions.md, "Tracer on the HTTP API function alone"): the
HTTP API function calls `tracer()` once; the WebSocket functions never do, since creating
one loads and patches the X-Ray SDK, about 250 ms of their cold start. Lambda's own segments
(`Tracing: Active`) cover every function.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

# Namespace and service come from POWERTOOLS_* variables that the template sets; without
# them (a module imported before its environment exists, as in some tests) a metric flush
# would raise on every request, so the namespace has a default.
logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Parley")

# A request that sent no event has no metric to publish; that is normal, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")

# Where API Gateway puts the request's id, in HTTP (payload 2.0), WebSocket and authorizer
# events alike: the logs' correlation_id, the id API Gateway's access logs carry too.
REQUEST_ID = "requestContext.requestId"


def log_connection(event: dict[str, Any]) -> None:
    """A WebSocket route's log keys: its connection and, as the $connect authorizer vouched,
    its user and workspace (absent keys are left out; the ?token= never read here)."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    logger.append_keys(
        connectionId=context.get("connectionId"),
        userId=authorizer.get("userId"),
        workspaceId=authorizer.get("workspaceId"),
    )


def tracer() -> Tracer:
    """Powertools' Tracer: X-Ray subsegments for every AWS and HTTP call (it patches botocore
    and http.client, which the lean clients use), annotated with the cold start. Outside
    Lambda, and in the local runtime (AWS_SAM_LOCAL), it disables itself."""
    return Tracer()


__all__ = ["REQUEST_ID", "MetricUnit", "log_connection", "logger", "metrics", "tracer"]
