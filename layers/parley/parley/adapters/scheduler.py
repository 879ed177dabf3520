"""Adapter: one-time schedules on EventBridge Scheduler (boto3 `scheduler`), the clock of
scheduled messages and reminders.

Each is `at(yyyy-mm-ddThh:mm:ss)` in UTC in Parley's own schedule group, with no flexible
window (on time, within the minute Scheduler promises), deleted by Scheduler once it ran
(ActionAfterCompletion DELETE). Its target is the scheduled poster function, invoked with
the payload as its event through the role that may invoke only that function.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
from datetime import UTC, datetime
from typing import Any


class EventBridgeScheduler:
    def __init__(self, group: str, target_arn: str, role_arn: str, region: str) -> None:
        self._group = group
        self._target_arn = target_arn
        self._role_arn = role_arn
        self._region = region
        self._client: Any = None
        self._lock = threading.Lock()

    def _scheduler(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3

                self._client = boto3.client("scheduler", region_name=self._region)
            return self._client

    @staticmethod
    def expression(at: datetime) -> str:
        """`at(...)` for the first whole second not before `at`: never early."""
        seconds = math.ceil(at.timestamp())
        moment = datetime.fromtimestamp(seconds, UTC)
        return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"

    def schedule(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        client = self._scheduler()
        # A name is an item's (or its occurrence's): one there already is this one, made by
        # a firing that is now redelivered.
        with contextlib.suppress(client.exceptions.ConflictException):
            self._create(client, name, at, payload)

    def _create(self, client: Any, name: str, at: datetime, payload: dict[str, Any]) -> None:
        client.create_schedule(
            Name=name,
            GroupName=self._group,
            ScheduleExpression=self.expression(at),
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            State="ENABLED",
            Target={
                "Arn": self._target_arn,
                "RoleArn": self._role_arn,
                "Input": json.dumps(payload, separators=(",", ":")),
                # Failed invocations are Lambda's to retry (its own retries and DLQ);
                # these cover Scheduler failing to invoke at all, for at most an hour.
                "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
            },
        )

    def cancel(self, name: str) -> None:
        client = self._scheduler()
        # Gone already: it ran (and deleted itself), or a cancel came first.
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_schedule(Name=name, GroupName=self._group)
