"""One logger and one metrics object for every function (Powertools).

No Tracer: the X-Ray SDK costs about 250 ms of cold start, which the WebSocket functions
cannot afford; API Gateway and Lambda still record their own spans.
"""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

# Namespace and service come from POWERTOOLS_* variables that the template sets; without
# them (a module imported before its environment exists, as in some tests) a metric flush
# would raise on every request, so the namespace has a default.
logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Parley")

# A request that sent no event has no metric to publish; that is normal, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")

__all__ = ["MetricUnit", "logger", "metrics"]
