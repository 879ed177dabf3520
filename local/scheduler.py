"""EventBridge Scheduler's part, played locally: moto serves the Scheduler API (schedules are
created, read and deleted there) but never fires one, so this does.

Every `poll_interval_s` it lists the schedules (one ListSchedules, paged), reads those it
has not seen or that changed (GetSchedule, for the expression, the target and its Input),
and fires each enabled one-time schedule (`at(yyyy-mm-ddThh:mm:ss)`, in its
ScheduleExpressionTimezone, UTC by default) that is due on its clock: the target function
is invoked asynchronously with the Input as its event, as Scheduler invokes Lambda (so the
function's EventInvokeConfig retries apply), and the schedule is deleted once it fired when
its ActionAfterCompletion is DELETE, as Scheduler does. A schedule fires at most once here.

The lateness of a firing is the time to the next poll (up to one period) plus the
invocation's start: the poll period sets it. The clock is injectable: a test schedules for
two minutes ahead and advances the clock (`OffsetClock.advance`) instead of waiting.
Recurring schedules (rate, cron) and targets other than the template's functions are
skipped with a warning.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from local.aws import AwsClients
from local.pollers import AsyncInvoker
from local.sam import AsyncInvocation
from local.workers import FunctionPool

log = logging.getLogger(__name__)


class OffsetClock:
    """The machine's time plus an offset that tests move forward."""

    def __init__(self) -> None:
        self.offset_s = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset_s

    def advance(self, seconds: float) -> None:
        self.offset_s += seconds


@dataclass(frozen=True)
class OneTime:
    """A one-time schedule as read from GetSchedule."""

    group: str
    name: str
    modified: str
    due: float | None  # epoch seconds; None: not a one-time schedule
    target_arn: str
    input: Any
    delete_after: bool
    enabled: bool


def due_at(expression: str, timezone: str | None) -> float | None:
    """The epoch seconds of `at(yyyy-mm-ddThh:mm:ss)` in the timezone; None for rate/cron."""
    expression = expression.strip()
    if not (expression.startswith("at(") and expression.endswith(")")):
        return None
    moment = datetime.strptime(expression[3:-1], "%Y-%m-%dT%H:%M:%S")
    return moment.replace(tzinfo=ZoneInfo(timezone or "UTC")).timestamp()


def read_schedule(schedule: Mapping[str, Any]) -> OneTime:
    target = schedule.get("Target") or {}
    raw = target.get("Input")
    return OneTime(
        group=str(schedule.get("GroupName") or "default"),
        name=str(schedule["Name"]),
        modified=str(schedule.get("LastModificationDate", "")),
        due=due_at(
            str(schedule.get("ScheduleExpression", "")), schedule.get("ScheduleExpressionTimezone")
        ),
        target_arn=str(target.get("Arn", "")),
        # Scheduler hands Lambda the Input as the event (its text, parsed as JSON).
        input=json.loads(raw) if isinstance(raw, str) and raw else {},
        delete_after=schedule.get("ActionAfterCompletion") == "DELETE",
        enabled=schedule.get("State", "ENABLED") == "ENABLED",
    )


class LocalScheduler:
    def __init__(
        self,
        aws: AwsClients,
        pools: Mapping[str, FunctionPool],
        invocations: Mapping[str, AsyncInvocation],
        poll_interval_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._aws = aws
        self._targets = {
            pool.spec.arn: (AsyncInvoker(pool, aws, poll_interval_s), invocations.get(name))
            for name, pool in pools.items()
        }
        self._poll_interval_s = poll_interval_s
        self._clock = clock
        self._known: dict[tuple[str, str], OneTime] = {}
        self._fired: set[tuple[str, str, str]] = set()  # (group, name, modified)
        self._tasks: set[asyncio.Task[None]] = set()
        self.ready = asyncio.Event()
        self.fired = 0

    async def run(self) -> None:
        self.ready.set()
        while True:
            try:
                await self.tick()
            except Exception:  # moto restarting, a schedule of a shape we do not know
                log.exception("the local scheduler's poll failed; polling on")
            await asyncio.sleep(self._poll_interval_s)

    async def _scheduler(self, action: str, **parameters: Any) -> Any:
        """A Scheduler API call (REST-JSON, not the pollers' JSON protocol): boto3 in a
        thread."""
        method = getattr(self._aws("scheduler"), action)
        return await asyncio.to_thread(method, **parameters)

    async def _listed(self) -> list[dict[str, Any]]:
        listed, token = [], None
        while True:
            page = await self._scheduler(
                "list_schedules", **({"NextToken": token} if token else {})
            )
            listed.extend(page.get("Schedules", []))
            token = page.get("NextToken")
            if not token:
                return listed

    async def tick(self) -> int:
        """One poll: fires what is due; how many it fired."""
        present = {}
        for summary in await self._listed():
            key = (str(summary.get("GroupName") or "default"), str(summary["Name"]))
            present[key] = str(summary.get("LastModificationDate", ""))
        for key in set(self._known) - set(present):
            del self._known[key]  # deleted (cancelled, or fired and deleted)
        for key, modified in present.items():
            known = self._known.get(key)
            if known is None or known.modified != modified:
                found = await self._scheduler("get_schedule", GroupName=key[0], Name=key[1])
                self._known[key] = read_schedule(found)
        now, fired = self._clock(), 0
        for schedule in list(self._known.values()):
            if not schedule.enabled or schedule.due is None or schedule.due > now:
                continue
            once = (schedule.group, schedule.name, schedule.modified)
            if once in self._fired:
                continue
            self._fired.add(once)
            fired += 1
            task = asyncio.create_task(self._fire(schedule))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.fired += fired
        return fired

    async def _fire(self, schedule: OneTime) -> None:
        target, retries = self._targets.get(schedule.target_arn, (None, None))
        invocation = None
        if target is None:
            log.warning(
                "schedule %s targets %s: not a local function", schedule.name, schedule.target_arn
            )
        else:
            retries = retries or AsyncInvocation()
            invocation = asyncio.create_task(
                target.invoke_async(schedule.input, retries.max_retries, retries.on_failure_arn)
            )
        if schedule.delete_after:
            # Scheduler completes a one-time schedule once it has invoked the target
            # (Lambda's asynchronous retries are the function's own), then deletes it.
            try:
                await self._scheduler(
                    "delete_schedule", GroupName=schedule.group, Name=schedule.name
                )
            except self._aws("scheduler").exceptions.ResourceNotFoundException:
                pass  # cancelled meanwhile: the target finds nothing to do
        if invocation is not None:
            await invocation
