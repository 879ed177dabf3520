"""`make reindex` and `make redrive` find what they work on from a stack name: its Outputs,
through CloudFormation's DescribeStacks (moto's, with queues the stack really made)."""

from __future__ import annotations

import argparse
import json
import uuid

import boto3
import pytest

from tests.functional.conftest import TABLE

SEARCH_ENDPOINT = "search-parley-test-abc.us-east-1.es.amazonaws.com"
# The template's own output names, over resources moto's CloudFormation creates.
STACK_TEMPLATE = f"""
Resources:
  IndexQueue:
    Type: AWS::SQS::Queue
  IndexDeadLetterQueue:
    Type: AWS::SQS::Queue
Outputs:
  IndexQueueUrl:
    Value: !Ref IndexQueue
  IndexDeadLetterQueueUrl:
    Value: !Ref IndexDeadLetterQueue
  TableName:
    Value: {TABLE}
  SearchEndpoint:
    Value: {SEARCH_ENDPOINT}
"""


def _stack(template: str = STACK_TEMPLATE) -> tuple[str, dict[str, str]]:
    name = f"parley-test-{uuid.uuid4().hex[:8]}"
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=template)
    outputs = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    return name, {o["OutputKey"]: o["OutputValue"] for o in outputs}


def _arguments(**values: str | None) -> argparse.Namespace:
    defaults = {"stack": None, "table": None, "endpoint": None, "dlq_url": None, "queue_url": None}
    return argparse.Namespace(
        **{**defaults, "region": "us-east-1", "aws_endpoint_url": None, **values}
    )


def test_redrive_moves_the_stacks_index_dlq_back_to_its_queue(aws: None) -> None:
    from parley.search import redrive

    name, outputs = _stack()
    sqs = boto3.client("sqs")
    change = json.dumps({"workspaceId": "W1", "channelId": "C1", "ts": "1.0", "version": 2})
    failure = json.dumps({"DDBStreamBatchInfo": {"shardId": "s"}})
    for body in (change, failure):
        sqs.send_message(QueueUrl=outputs["IndexDeadLetterQueueUrl"], MessageBody=body)

    assert redrive.main(["--stack", name]) == 0

    moved = sqs.receive_message(QueueUrl=outputs["IndexQueueUrl"], MaxNumberOfMessages=10)
    assert [m["Body"] for m in moved["Messages"]] == [change]


def test_reindex_reads_the_table_and_the_domain_from_the_stack(aws: None) -> None:
    from parley.search import reindex

    name, _ = _stack()
    assert reindex.targets(_arguments(stack=name)) == (TABLE, SEARCH_ENDPOINT)


def test_a_named_resource_wins_over_the_stacks_output(aws: None) -> None:
    from parley.search import reindex

    name, _ = _stack()
    chosen = _arguments(stack=name, endpoint="http://127.0.0.1:9200")
    assert reindex.targets(chosen) == (TABLE, "http://127.0.0.1:9200")


def test_an_unknown_stack_is_a_usage_error_naming_it(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from parley.search import redrive, reindex

    for tool in (redrive, reindex):
        with pytest.raises(SystemExit) as exit_:
            tool.main(["--stack", "parley-nowhere"])
        assert exit_.value.code == 2
        assert "parley-nowhere" in capsys.readouterr().err


def test_a_stack_without_the_outputs_names_what_it_lacks(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from parley.search import redrive

    older = STACK_TEMPLATE.split("  IndexDeadLetterQueueUrl:", maxsplit=1)[0]  # an older template
    name, _ = _stack(older + "  TableName:\n    Value: t\n")
    with pytest.raises(SystemExit):
        redrive.main(["--stack", name])
    assert "no output IndexDeadLetterQueueUrl" in capsys.readouterr().err


def test_without_a_stack_both_resources_are_needed(capsys: pytest.CaptureFixture[str]) -> None:
    from parley.search import redrive, reindex

    with pytest.raises(SystemExit):
        redrive.main(["--dlq-url", "https://sqs.example/dlq"])
    with pytest.raises(SystemExit):
        reindex.main(["--table", "t"])
    assert "--stack" in capsys.readouterr().err
