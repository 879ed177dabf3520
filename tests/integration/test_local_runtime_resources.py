"""The fixture template's resources, created in moto from the template's own properties."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.stack import Stack

pytestmark = pytest.mark.integration


def client(stack: Stack, service: str) -> Any:
    assert stack.aws is not None
    return stack.aws(service)


def test_tables_have_their_keys_indexes_stream_and_ttl(runtime_stack: Stack) -> None:
    dynamodb = client(runtime_stack, "dynamodb")
    table = dynamodb.describe_table(TableName="parley-local-SourceTable")["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "GSI1"
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    ttl = dynamodb.describe_time_to_live(TableName="parley-local-SourceTable")
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}


def test_queues_have_their_attributes_and_redrive_policy(runtime_stack: Stack) -> None:
    sqs = client(runtime_stack, "sqs")
    url = sqs.get_queue_url(QueueName="parley-local-WorkQueue")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "1"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:parley-local-WorkDeadLetters",
        "maxReceiveCount": 2,
    }


def test_buckets_topics_and_the_user_pool(runtime_stack: Stack) -> None:
    cors = client(runtime_stack, "s3").get_bucket_cors(Bucket="parley-local-uploads")
    assert cors["CORSRules"][0]["AllowedMethods"] == ["POST"]
    assert cors["CORSRules"][0]["MaxAgeSeconds"] == 300
    topics = client(runtime_stack, "sns").list_topics()["Topics"]
    assert any(t["TopicArn"].endswith(":parley-local-Notifications") for t in topics)
    assert runtime_stack.user_pool is not None
    pool = client(runtime_stack, "cognito-idp").describe_user_pool(
        UserPoolId=runtime_stack.user_pool.pool_id
    )["UserPool"]
    assert pool["Name"] == "runtime-test"
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 10
    assert any(attribute["Name"] == "email" for attribute in pool["SchemaAttributes"])
