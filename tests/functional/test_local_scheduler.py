"""The local runtime's schedules: rates read from the template, EventBridge's event, and
Lambda's asynchronous retries ending in the OnFailure destination."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from local import sam
from local.intrinsics import Resolver
from local.pollers import SchedulePoller
from local.scheduler import LocalScheduler, OffsetClock, due_at
from local.template import Template
from local.workers import Invocation
from tests.functional.test_local_pollers import FakeAws, fake_spec
from tests.functional.test_local_template import template_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("rate(0 minutes)", None),
        ("cron(0 12 * * ? *)", None),
        ("at(2026-11-28T00:00:00)", None),
    ],
)
def test_rate_expressions(expression: str, seconds: int | None) -> None:
    assert sam.rate_seconds(expression) == seconds


def test_parley_presence_sweep_runs_every_minute_with_its_dead_letter_queue() -> None:
    template = Template.load(ROOT / "template.yaml")
    resolver = Resolver(template)
    resolver.register("AppTable", "parley-local-AppTable", Arn="arn:table", StreamArn="arn:stream")
    for queue in template.of_type("AWS::SQS::Queue"):
        name = queue.logical_id
        resolver.register(name, f"http://{name}", Arn=f"arn:aws:sqs:us-east-1:123456789012:{name}")
    dlq = "arn:aws:sqs:us-east-1:123456789012:PresenceSweepDeadLetterQueue"
    sam.register_runtime_resources(template, resolver, {"AWS::DynamoDB::Table", "AWS::SQS::Queue"})
    schedules = [
        s for s in sam.event_sources(template, resolver) if isinstance(s, sam.ScheduleSource)
    ]
    [sweep] = [s for s in schedules if s.function == "PresenceSweepFunction"]
    assert (sweep.interval_s, sweep.rule_name) == (60, "parley-dev-presence-sweep")
    assert (sweep.max_retries, sweep.on_failure_arn, sweep.input) == (0, dlq, None)


def test_cron_and_disabled_schedules_do_not_run_locally() -> None:
    template = template_of(
        """
Resources:
  Job:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/api
      Handler: app.lambda_handler
      Runtime: python3.12
      Events:
        Nightly: {Type: Schedule, Properties: {Schedule: "cron(0 3 * * ? *)"}}
        Off: {Type: Schedule, Properties: {Schedule: rate(1 minute), Enabled: false}}
        Hourly:
          Type: ScheduleV2
          Properties: {ScheduleExpression: rate(1 hour), Input: '{"k": 1}'}
"""
    )
    resolver = Resolver(template)
    sam.register_runtime_resources(template, resolver, set())
    [hourly] = sam.event_sources(template, resolver)
    assert isinstance(hourly, sam.ScheduleSource)
    assert (hourly.interval_s, hourly.input, hourly.max_retries) == (3600, {"k": 1}, 2)
    assert hourly.rule_name == "JobHourly"


class FakePool:
    def __init__(self, failures: int) -> None:
        self.spec = fake_spec("Job")
        self.events: list[dict[str, Any]] = []
        self._failures = failures

    async def invoke(self, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        if len(self.events) <= self._failures:
            return Invocation("r", error={"errorType": "RuntimeError", "errorMessage": "down"})
        return Invocation("r", payload={"announced": 0})


def run_schedule(pool: FakePool, seconds: float, max_retries: int = 2) -> FakeAws:
    source = sam.ScheduleSource(
        function="Job",
        rule_name="parley-dev-job",
        interval_s=60,
        input=None,
        max_retries=max_retries,
        on_failure_arn="arn:aws:sqs:us-east-1:123456789012:job-dlq",
    )
    aws = FakeAws()
    poller = SchedulePoller(source, pool, aws, poll_interval_s=0, interval_s=0.2)  # type: ignore[arg-type]  # FakePool and FakeAws play the worker pool and AWS

    async def run() -> None:
        task = asyncio.create_task(poller.run())
        await asyncio.sleep(seconds)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())
    return aws


def test_the_schedule_invokes_with_eventbridges_event_once_per_period() -> None:
    pool = FakePool(failures=0)
    aws = run_schedule(pool, 0.5)
    assert len(pool.events) == 2  # at 0.2 and 0.4 s: none at the start
    event = pool.events[0]
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "aws.events",
        "Scheduled Event",
        {},
    )
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/parley-dev-job"]
    assert len({e["id"] for e in pool.events}) == 2
    assert aws.sent == []


def test_a_failing_run_is_retried_then_sent_to_the_on_failure_destination() -> None:
    pool = FakePool(failures=2)
    aws = run_schedule(pool, 0.3, max_retries=1)
    assert len(pool.events) == 2  # the first run and its one retry, both failing
    [failure] = aws.sent
    assert failure["url"] == "http://queue/job-dlq"
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert failure["requestPayload"]["source"] == "aws.events"
    assert failure["responsePayload"]["errorMessage"] == "down"


# ------------------------------------------------------------------ EventBridge Scheduler


class SchedulerAws(FakeAws):
    """The stack's clients: moto's Scheduler (in process) and the on-failure queue."""

    def __call__(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name="us-east-1")


def _one_time(name: str, at: str, *, after: str = "DELETE", target: str = "job") -> None:
    import boto3

    boto3.client("scheduler", region_name="us-east-1").create_schedule(
        Name=name,
        GroupName="parley-dev",
        ScheduleExpression=f"at({at})",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion=after,
        Target={
            "Arn": f"arn:aws:lambda:us-east-1:123456789012:function:{target}",
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": json.dumps({"id": name}),
        },
    )


def test_due_at_reads_one_time_expressions_in_their_timezone() -> None:
    assert due_at("at(2026-12-07T18:00:00)", "UTC") == 1796666400
    assert due_at("at(2026-12-07T19:00:00)", "Europe/Paris") == 1796666400
    assert due_at("rate(5 minutes)", "UTC") is None
    assert due_at("cron(0 12 * * ? *)", None) is None


def test_a_due_one_time_schedule_fires_once_with_its_input_then_is_deleted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from moto import mock_aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    clock = OffsetClock()
    base = 1796666400.0  # 2026-12-07T18:00:00Z
    monkeypatch.setattr(clock, "offset_s", base - time.time())
    pool = FakePool(failures=0)
    with mock_aws():
        boto3.client("scheduler", region_name="us-east-1").create_schedule_group(Name="parley-dev")
        _one_time("soon", "2026-12-07T18:02:00")
        _one_time("later", "2026-12-07T19:00:00")
        _one_time("kept", "2026-12-07T18:01:00", after="NONE")
        _one_time("elsewhere", "2026-12-07T18:01:00", target="not-local")
        scheduler = LocalScheduler(
            SchedulerAws(),  # type: ignore[arg-type]  # moto and a fake queue play AWS
            {"Job": pool},  # type: ignore[dict-item]  # FakePool plays the worker pool
            {"Job": sam.AsyncInvocation(max_retries=0)},
            poll_interval_s=0,
            clock=clock,
        )

        async def ticks() -> list[int]:
            fired = [await scheduler.tick()]  # 18:00: nothing is due
            clock.advance(150)  # 18:02:30
            fired.append(await scheduler.tick())
            await asyncio.sleep(0.2)  # the firings run as tasks
            fired.append(await scheduler.tick())  # fired ones fire once
            return fired

        fired = asyncio.run(ticks())
        left = boto3.client("scheduler", region_name="us-east-1").list_schedules()["Schedules"]
    assert fired == [0, 3, 0]
    # Scheduler hands Lambda the Input; "elsewhere" targets no local function.
    assert sorted(e["id"] for e in pool.events) == ["kept", "soon"]
    # DELETE after completion removes it; NONE keeps it (fired once all the same).
    assert sorted(s["Name"] for s in left) == ["kept", "later"]
