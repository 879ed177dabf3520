"""AWS services on the machine: a moto server, and the template's resources created in it.

moto runs as its own process (its own interpreter lock, so the gateway and moto do not slow
each other down) in its own session (Ctrl-C in the terminal reaches the stack, which stops
it, rather than killing it mid-request).
"""

from __future__ import annotations

import datetime
import json
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, TextIO

import aiohttp
import boto3
from botocore.config import Config

from local.intrinsics import ACCOUNT_ID, REGION, Resolver, references
from local.template import Resource, Template, TemplateError

log = logging.getLogger(__name__)

# Run by path in isolated mode (-I): `local/` is not put on sys.path, so none of its
# modules can shadow one that moto imports.
MOTO_MAIN = Path(__file__).with_name("moto_main.py")
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class MotoStartError(RuntimeError):
    """The moto server did not come up."""


class MotoServer:
    def __init__(self, port: int, log_file: Path | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None
        self._log: TextIO | None = None

    def start(self, timeout_s: float = 30.0) -> None:
        if self._log_file:
            self._log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = self._log_file.open("w", encoding="utf-8")
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-I", str(MOTO_MAIN), "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise MotoStartError(
                    f"moto server exited with {self._process.returncode} (see {self._log_file})"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                time.sleep(0.05)
            else:
                return
        self.stop()
        raise MotoStartError(f"moto server did not listen on port {self.port} within {timeout_s}s")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log:
            self._log.close()
            self._log = None


class JsonApiError(Exception):
    """moto refused a JSON-protocol request (`__type` is AWS's error code)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


class JsonApi:
    """The pollers' client for moto's JSON-protocol actions (DynamoDB Streams, SQS), made on
    the event loop with aiohttp and answered as plain JSON, which is already the wire form
    that Lambda's events carry.

    boto3 in a thread cost the gateway's process its interpreter lock for most of each
    poll: a GetRecords reply of 100 records parsed member by member into Python types (then
    turned back into wire JSON), plus signing and hooks, about half of that process's CPU
    when messages streamed. moto checks no signature; it reads the service, region and
    account (from the access key) from the Authorization header's credential scope, so the
    header names them and signs nothing.
    """

    # service -> (X-Amz-Target prefix, signing name); Streams signs as `dynamodb`.
    _PROTOCOL: ClassVar[dict[str, tuple[str, str]]] = {
        "dynamodbstreams": ("DynamoDBStreams_20120810", "dynamodb"),
        "sqs": ("AmazonSQS", "sqs"),
    }

    def __init__(self, endpoint_url: str, timeout_s: float = 30.0) -> None:
        self.endpoint_url = endpoint_url
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def call(self, service: str, action: str, **parameters: Any) -> dict[str, Any]:
        prefix, signing_name = self._PROTOCOL[service]
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        day = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")
        scope = f"{FAKE_CREDENTIALS['aws_access_key_id']}/{day}/{REGION}/{signing_name}"
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"{prefix}.{action}",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-target, Signature=unsigned",
        }
        async with self._session.post(
            self.endpoint_url, data=json.dumps(parameters), headers=headers
        ) as response:
            body = await response.read()
        answer: dict[str, Any] = json.loads(body) if body else {}
        if response.status >= 300:
            code = str(answer.get("__type", "")).rpartition("#")[2] or "UnknownError"
            message = answer.get("message") or answer.get("Message") or body.decode()[:200]
            raise JsonApiError(response.status, code, str(message))
        return answer

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class AwsClients:
    """boto3 clients bound to moto; clients are thread-safe, so one of each is shared. `json`
    is the event loop's client for the pollers' requests."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self.json = JsonApi(endpoint_url)
        self._session = boto3.session.Session(
            aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
            region_name=REGION,
        )
        # One client per service serves every thread that asks (the stack's setup, tests,
        # an on-failure destination's publish); the pool holds a connection for each.
        self._config = Config(
            retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=64
        )
        self._clients: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service,  # type: ignore[call-overload]  # the service name is dynamic
                endpoint_url=self.endpoint_url,
                config=self._config,
            )
        return self._clients[service]


# --------------------------------------------------------------------------------- provisioning


def provision(template: Template, resolver: Resolver, aws: AwsClients) -> None:
    """Creates the template's tables, queues, buckets, topics and user pools in moto, in
    dependency order, registering each resource's local `Ref` and attributes."""
    creatable = {
        r.logical_id: r for r in resolver.active(template.resources.values()) if r.type in _CREATORS
    }
    for resource in _dependency_order(creatable):
        _CREATORS[resource.type](resource, resolver.resolve(resource.properties), resolver, aws)
        log.debug("created %s (%s)", resource.logical_id, resource.type)


def _dependency_order(resources: Mapping[str, Resource]) -> list[Resource]:
    ordered: list[Resource] = []
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in done:
            return
        if logical_id in visiting:
            raise TemplateError(f"circular reference through {logical_id}")
        visiting.add(logical_id)
        for dependency in sorted(references(resources[logical_id].properties) & set(resources)):
            visit(dependency)
        visiting.discard(logical_id)
        done.add(logical_id)
        ordered.append(resources[logical_id])

    for logical_id in resources:
        visit(logical_id)
    return ordered


def _physical_name(
    resource: Resource, props: Mapping[str, Any], key: str, resolver: Resolver
) -> str:
    return str(props.get(key) or f"{resolver.stack_name}-{resource.logical_id}")


def _pick(props: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """The CloudFormation properties whose names and shapes the service API shares."""
    return {key: props[key] for key in keys if key in props}


def _create_table(
    resource: Resource, props: Mapping[str, Any], resolver: Resolver, aws: AwsClients
) -> None:
    name = _physical_name(resource, props, "TableName", resolver)
    provisioned = props.get("BillingMode", "PROVISIONED") == "PROVISIONED"
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PROVISIONED" if provisioned else "PAY_PER_REQUEST",
        **_pick(props, "AttributeDefinitions", "KeySchema", "LocalSecondaryIndexes"),
    }
    if provisioned:
        request["ProvisionedThroughput"] = props.get("ProvisionedThroughput", throughput)
    if props.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [
            {**index, "ProvisionedThroughput": index.get("ProvisionedThroughput", throughput)}
            if provisioned
            else index
            for index in props["GlobalSecondaryIndexes"]
        ]
    stream = props.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    dynamodb = aws("dynamodb")
    table = dynamodb.create_table(**request)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    attributes = {"Arn": table["TableArn"]}
    if "LatestStreamArn" in table:
        attributes["StreamArn"] = table["LatestStreamArn"]
    resolver.register(resource.logical_id, name, **attributes)


def _create_queue(
    resource: Resource, props: Mapping[str, Any], resolver: Resolver, aws: AwsClients
) -> None:
    name = _physical_name(resource, props, "QueueName", resolver)
    if props.get("FifoQueue") and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = {
        key: json.dumps(value) if isinstance(value, dict) else _attribute_string(value)
        for key, value in _pick(
            props,
            "ContentBasedDeduplication",
            "DelaySeconds",
            "FifoQueue",
            "MaximumMessageSize",
            "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds",
            "RedriveAllowPolicy",
            "RedrivePolicy",
            "VisibilityTimeout",
        ).items()
    }
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
    resolver.register(resource.logical_id, url, Arn=arn, QueueName=name, QueueUrl=url)


def _attribute_string(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _create_bucket(
    resource: Resource, props: Mapping[str, Any], resolver: Resolver, aws: AwsClients
) -> None:
    name = _physical_name(resource, props, "BucketName", resolver).lower()
    s3 = aws("s3")
    s3.create_bucket(Bucket=name)
    cors = props.get("CorsConfiguration")
    if cors:
        rules = [
            {
                "AllowedMethods": rule["AllowedMethods"],
                "AllowedOrigins": rule["AllowedOrigins"],
                **_pick(rule, "AllowedHeaders"),
                **({"ExposeHeaders": rule["ExposedHeaders"]} if "ExposedHeaders" in rule else {}),
                **({"ID": rule["Id"]} if "Id" in rule else {}),
                **({"MaxAgeSeconds": rule["MaxAge"]} if "MaxAge" in rule else {}),
            }
            for rule in cors["CorsRules"]
        ]
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    if props.get("PublicAccessBlockConfiguration"):
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    encryption = props.get("BucketEncryption")
    if encryption:
        # CloudFormation says ServerSideEncryptionByDefault where the API says Apply....
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                **_pick(rule, "BucketKeyEnabled"),
            }
            for rule in encryption["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    lifecycle = props.get("LifecycleConfiguration")
    if lifecycle:
        # Stored, not run (moto expires nothing), so that a rule S3 would refuse fails here.
        s3.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in lifecycle["Rules"]]},
        )
    resolver.register(
        resource.logical_id,
        name,
        Arn=f"arn:aws:s3:::{name}",
        DomainName=f"{name}.s3.amazonaws.com",
        RegionalDomainName=f"{name}.s3.{REGION}.amazonaws.com",
    )


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape (Filter, Expiration, ...)."""
    tags = [{"Key": t["Key"], "Value": t["Value"]} for t in rule.get("TagFilters") or ()]
    prefix = rule.get("Prefix")
    if tags and (prefix is not None or len(tags) > 1):
        selection: dict[str, Any] = {"And": {"Tags": tags, **_pick(rule, "Prefix")}}
    elif tags:
        selection = {"Tag": tags[0]}
    else:
        selection = {"Prefix": prefix or ""}
    converted: dict[str, Any] = {"Status": rule["Status"], "Filter": selection}
    if "Id" in rule:
        converted["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return converted


def _create_topic(
    resource: Resource, props: Mapping[str, Any], resolver: Resolver, aws: AwsClients
) -> None:
    name = _physical_name(resource, props, "TopicName", resolver)
    attributes = {
        key: _attribute_string(value)
        for key, value in _pick(props, "FifoTopic", "ContentBasedDeduplication").items()
    }
    arn = aws("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
    resolver.register(resource.logical_id, arn, TopicArn=arn, TopicName=name)


def _create_user_pool(
    resource: Resource, props: Mapping[str, Any], resolver: Resolver, aws: AwsClients
) -> None:
    request = {
        "PoolName": _physical_name(resource, props, "UserPoolName", resolver),
        **_pick(
            props,
            "AccountRecoverySetting",
            "AdminCreateUserConfig",
            "AliasAttributes",
            "AutoVerifiedAttributes",
            "MfaConfiguration",
            "Policies",
            "Schema",
            "UsernameAttributes",
            "UsernameConfiguration",
        ),
    }
    pool = aws("cognito-idp").create_user_pool(**request)["UserPool"]
    provider = f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}"
    resolver.register(
        resource.logical_id,
        pool["Id"],
        Arn=pool["Arn"],
        ProviderName=provider,
        ProviderURL=f"https://{provider}",
        UserPoolId=pool["Id"],
    )


def _create_user_pool_client(
    resource: Resource, props: Mapping[str, Any], resolver: Resolver, aws: AwsClients
) -> None:
    request = {
        "ClientName": _physical_name(resource, props, "ClientName", resolver),
        **_pick(
            props,
            "UserPoolId",
            "GenerateSecret",
            "ExplicitAuthFlows",
            "RefreshTokenValidity",
            "AccessTokenValidity",
            "IdTokenValidity",
            "TokenValidityUnits",
            "PreventUserExistenceErrors",
            "ReadAttributes",
            "WriteAttributes",
            "AllowedOAuthFlows",
            "AllowedOAuthScopes",
            "AllowedOAuthFlowsUserPoolClient",
            "CallbackURLs",
            "LogoutURLs",
            "SupportedIdentityProviders",
        ),
    }
    client = aws("cognito-idp").create_user_pool_client(**request)["UserPoolClient"]
    resolver.register(
        resource.logical_id,
        client["ClientId"],
        ClientId=client["ClientId"],
        Name=client["ClientName"],
    )


def _create_schedule_group(
    resource: Resource, props: Mapping[str, Any], resolver: Resolver, aws: AwsClients
) -> None:
    """The group whose one-time schedules local.scheduler fires (moto stores, never runs)."""
    name = _physical_name(resource, props, "Name", resolver)
    arn = aws("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
    resolver.register(resource.logical_id, name, Arn=arn)


_Creator = Callable[[Resource, Mapping[str, Any], Resolver, AwsClients], None]

_CREATORS: dict[str, _Creator] = {
    "AWS::DynamoDB::Table": _create_table,
    "AWS::SQS::Queue": _create_queue,
    "AWS::S3::Bucket": _create_bucket,
    "AWS::SNS::Topic": _create_topic,
    "AWS::Cognito::UserPool": _create_user_pool,
    "AWS::Cognito::UserPoolClient": _create_user_pool_client,
    "AWS::Scheduler::ScheduleGroup": _create_schedule_group,
}

CREATED_TYPES = frozenset(_CREATORS)
