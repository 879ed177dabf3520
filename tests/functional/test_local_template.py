"""The local runtime reads the template itself: YAML short tags, SAM Globals, intrinsics."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench import cost
from local import sam
from local.intrinsics import Resolver, references
from local.stack import enabled_event_sources
from local.template import Resource, Template, TemplateError, load_yaml
from local.workers import worker_cap

ROOT = Path(__file__).resolve().parents[2]


def template_of(text: str) -> Template:
    return Template(load_yaml(text), ROOT)


SMALL = """
Parameters:
  Stage: {Type: String, Default: dev}
  Size: {Type: Number, Default: 3}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsNotProd: !Not [!Condition IsProd]
Mappings:
  Sizes:
    dev: {memory: 256}
Globals:
  Function:
    Timeout: 10
    Layers: [!Ref Layer]
    Environment:
      Variables:
        TABLE: !Ref Table
        MODE: global
Resources:
  Table: {Type: AWS::DynamoDB::Table, Properties: {}}
  Layer: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: layers/parley}}
  ProdOnly: {Type: AWS::SNS::Topic, Condition: IsProd}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/api
      Handler: app.lambda_handler
      Runtime: python3.12
      Layers: [arn:aws:lambda:us-east-1:017000801446:layer:Powertools:1]
      Environment:
        Variables:
          MODE: own
"""


@pytest.fixture
def small() -> Template:
    return template_of(SMALL)


@pytest.fixture
def resolver(small: Template) -> Resolver:
    resolver = Resolver(small)
    resolver.register("Table", "parley-local-Table", Arn="arn:aws:dynamodb:::table/t")
    return resolver


def test_short_tags_become_intrinsic_functions() -> None:
    document = load_yaml(
        """
a: !Ref Thing
b: !GetAtt Thing.Arn
c: !GetAtt [Thing, Arn]
d: !Sub "x-${Thing}"
e: !If [Cond, !Join ["-", [a, b]], !Ref AWS::NoValue]
f: !GetAtt Thing.Attr.Nested
g: 2010-09-09
"""
    )
    assert document == {
        "a": {"Ref": "Thing"},
        "b": {"Fn::GetAtt": ["Thing", "Arn"]},
        "c": {"Fn::GetAtt": ["Thing", "Arn"]},
        "d": {"Fn::Sub": "x-${Thing}"},
        "e": {"Fn::If": ["Cond", {"Fn::Join": ["-", ["a", "b"]]}, {"Ref": "AWS::NoValue"}]},
        "f": {"Fn::GetAtt": ["Thing", "Attr.Nested"]},
        "g": "2010-09-09",
    }


def test_globals_merge_maps_add_lists_and_let_the_function_win(small: Template) -> None:
    props = small.resources["Fn"].properties
    assert props["Timeout"] == 10
    assert props["Environment"]["Variables"] == {"TABLE": {"Ref": "Table"}, "MODE": "own"}
    assert props["Layers"] == [
        {"Ref": "Layer"},
        "arn:aws:lambda:us-east-1:017000801446:layer:Powertools:1",
    ]


def test_resource_attributes_and_outputs_are_read() -> None:
    template = template_of(
        """
Resources:
  A: {Type: AWS::SNS::Topic, DependsOn: B, Metadata: {checkov: {skip: []}}}
  B: {Type: AWS::SNS::Topic, DependsOn: [A, C]}
  C: {Type: AWS::SNS::Topic}
Outputs:
  Topic: {Value: !Ref A}
"""
    )
    assert template.resources["A"].depends_on == ("B",)
    assert template.resources["B"].depends_on == ("A", "C")
    assert template.resources["C"].depends_on == ()
    assert template.resources["A"].metadata == {"checkov": {"skip": []}}
    assert template.outputs == {"Topic": {"Value": {"Ref": "A"}}}


def test_refs_resolve_to_parameters_pseudo_parameters_and_registered_resources(
    resolver: Resolver,
) -> None:
    value = {
        "stage": {"Ref": "Stage"},
        "table": {"Ref": "Table"},
        "arn": {"Fn::GetAtt": ["Table", "Arn"]},
        "where": {"Fn::Sub": "${AWS::Region}/${AWS::AccountId}/${AWS::Partition}/${Stage}"},
        "sub_attribute": {"Fn::Sub": "${Table.Arn}/index/*"},
        "literal": {"Fn::Sub": "${!NotAVariable}"},
        "with_variables": {"Fn::Sub": ["${a}-${Table}", {"a": {"Ref": "Size"}}]},
    }
    assert resolver.resolve(value) == {
        "stage": "dev",
        "table": "parley-local-Table",
        "arn": "arn:aws:dynamodb:::table/t",
        "where": "us-east-1/123456789012/aws/dev",
        "sub_attribute": "arn:aws:dynamodb:::table/t/index/*",
        "literal": "${NotAVariable}",
        "with_variables": "3-parley-local-Table",
    }


def test_parameter_overrides_win_over_defaults(small: Template) -> None:
    assert Resolver(small, {"Stage": "prod"}).ref("Stage") == "prod"


def test_a_comma_delimited_list_parameter_is_its_items_as_in_cloudformation() -> None:
    listed = template_of(
        """
Parameters:
  Origins: {Type: CommaDelimitedList, Default: "*"}
  Zones: {Type: "List<AWS::EC2::AvailabilityZone::Name>", Default: "a,b"}
  Plain: {Type: String, Default: "x,y"}
Resources: {}
"""
    )
    overridden = Resolver(listed, {"Origins": "https://a.example, http://localhost:5173"})
    assert overridden.ref("Origins") == ["https://a.example", "http://localhost:5173"]
    assert Resolver(listed).ref("Origins") == ["*"]
    assert Resolver(listed).ref("Zones") == ["a", "b"]
    assert Resolver(listed).ref("Plain") == "x,y"


def test_functions_conditions_and_no_value(resolver: Resolver) -> None:
    value: dict[str, Any] = {
        "join": {"Fn::Join": [",", ["a", 1, True]]},
        "select": {"Fn::Select": ["1", {"Fn::Split": ["/", "a/b/c"]}]},
        "if": {"Fn::If": ["IsProd", "big", "small"]},
        "condition": {"Fn::If": ["IsNotProd", "yes", "no"]},
        "map": {"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "memory"]},
        "removed": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]},
        "list": ["kept", {"Ref": "AWS::NoValue"}],
    }
    assert resolver.resolve(value) == {
        "join": "a,1,true",
        "select": "b",
        "if": "small",
        "condition": "yes",
        "map": 256,
        "list": ["kept"],
    }


def test_resources_whose_condition_fails_are_inactive(small: Template, resolver: Resolver) -> None:
    active = {resource.logical_id for resource in resolver.active(small.resources.values())}
    assert "ProdOnly" not in active
    assert {"Table", "Layer", "Fn"} <= active


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Ref": "Nothing"}, "no such parameter or resource"),
        ({"Ref": "Fn"}, "no physical id"),
        ({"Fn::GetAtt": ["Table", "StreamArn"]}, "not available"),
        ({"Fn::ImportValue": "x"}, "not supported"),
        ({"Fn::Join": ["-"]}, "Fn::Join"),
        ({"Fn::If": ["NoSuchCondition", 1, 2]}, "no such condition"),
    ],
)
def test_what_cannot_resolve_says_so(resolver: Resolver, value: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        resolver.resolve(value)


def test_parameters_without_default_need_an_override() -> None:
    template = template_of("Parameters: {Key: {Type: String}}\nResources: {}")
    with pytest.raises(TemplateError, match="Key"):
        Resolver(template)
    assert Resolver(template, {"Key": "v"}).ref("Key") == "v"


def test_references_finds_refs_getatts_and_sub_variables() -> None:
    value = {
        "a": {"Ref": "A"},
        "b": [{"Fn::GetAtt": ["B", "Arn"]}],
        "c": {"Fn::Sub": ["${C.Arn}/${D}/${AWS::Region}/${!E}", {"D": {"Ref": "F"}}]},
    }
    assert references(value) - {"AWS::Region"} == {"A", "B", "C", "F"}


# ------------------------------------------------------------------ Parley's own template


@pytest.fixture
def parley() -> tuple[Template, Resolver]:
    template = Template.load(ROOT / "template.yaml")
    resolver = Resolver(template)
    resolver.register("AppTable", "parley-local-AppTable", Arn="arn:table", StreamArn="arn:stream")
    resolver.register("UserPool", "us-east-1_pool", Arn="arn:pool")
    resolver.register("UserPoolClient", "client123")
    sam.register_runtime_resources(
        template,
        resolver,
        {
            "AWS::DynamoDB::Table",
            "AWS::Cognito::UserPool",
            "AWS::Cognito::UserPoolClient",
        },
    )
    return template, resolver


def test_parley_functions_run_from_their_code_uri_with_the_layer(
    parley: tuple[Template, Resolver],
) -> None:
    functions = sam.functions(*parley)
    api = functions["ApiFunction"]
    assert api.code_dir == ROOT / "functions" / "api"
    assert api.handler == "app.lambda_handler"
    assert api.timeout_s == 29
    assert api.memory_mb == 512
    assert api.layer_dirs == (ROOT / "layers" / "parley",)
    assert api.name == "parley-local-ApiFunction"
    assert {name for name, spec in functions.items() if spec.code_dir.name == "authorizer"} == {
        "AuthorizerFunction"
    }


def test_parley_http_api_routes_and_jwt_authorizer(parley: tuple[Template, Resolver]) -> None:
    api = sam.http_api(*parley)
    assert api is not None
    keys = {route.key for route in api.routes}
    assert {"GET /me", "POST /workspaces", "GET /channels/{cid}/messages/{ts}", "$default"} <= keys
    authorizer = api.routes[0].authorizer
    assert authorizer is not None
    assert authorizer.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
    assert authorizer.audiences == ("client123",)
    assert authorizer.header == "Authorization"
    assert api.cors is not None
    assert api.cors.allow_origins == ("*",)
    assert api.cors.max_age == 600


def test_parley_slack_and_webhook_routes_reach_their_functions_without_the_jwt_authorizer(
    parley: tuple[Template, Resolver],
) -> None:
    """The bot token is the function's to check (docs/decisions.md); the gateway lets the
    request through as API Gateway does for `Authorizer: NONE`: only Slack's Web API,
    webhooks and slash commands' response_urls, whose tokens the functions check."""
    api = sam.http_api(*parley)
    assert api is not None
    open_routes = {route.key for route in api.routes if route.authorizer is None}
    assert {"POST /api/{method}", "GET /api/{method}"} <= open_routes
    assert "POST /hooks/{token}" in open_routes
    assert "POST /commands/{token}" in open_routes
    paths = [key.split(" ", 1)[1] for key in open_routes - {"$default"}]
    assert all(path.startswith(("/api/", "/hooks/", "/commands/")) for path in paths)


def test_parley_websocket_api_routes(parley: tuple[Template, Resolver]) -> None:
    api = sam.websocket_api(*parley)
    assert api is not None
    assert api.stage == "dev"
    assert api.body_selection_path == ("action",)
    routes = api.routes
    declared = {
        props["RouteKey"]: "RouteResponseSelectionExpression" in props
        for props in (
            resource["Properties"]
            for resource in load_yaml((ROOT / "template.yaml").read_text())["Resources"].values()
            if resource["Type"] == "AWS::ApiGatewayV2::Route"
        )
    }
    assert {"$connect", "$disconnect", "$default", "sendMessage", "ping"} <= set(declared)
    assert set(routes) == set(declared)
    assert {key for key, route in routes.items() if route.returns_response} == {
        key for key, replies in declared.items() if replies
    }
    connect = routes["$connect"]
    assert connect.function == "WsConnectFunction"
    assert connect.authorizer is not None
    assert connect.authorizer.function == "AuthorizerFunction"
    assert connect.authorizer.identity_sources == (
        "route.request.querystring.token",
        "route.request.querystring.workspaceId",
    )
    assert routes["$disconnect"].authorizer is None


def test_parley_environment_resolves_to_local_names(parley: tuple[Template, Resolver]) -> None:
    template, resolver = parley
    environment = resolver.resolve(
        sam.functions(template, resolver)["AuthorizerFunction"].environment
    )
    websocket_api_id = resolver.ref("WebSocketApi")
    assert environment["TABLE_NAME"] == "parley-local-AppTable"
    assert environment["JWT_AUDIENCE"] == "client123"
    assert environment["WS_MANAGEMENT_ENDPOINT"] == (
        f"https://{websocket_api_id}.execute-api.us-east-1.amazonaws.com/dev"
    )
    assert environment["CONNECTION_TTL_SECONDS"] == 7500


# ------------------------------------------------------------------ event sources


FIXTURE = ROOT / "tests" / "integration" / "fixtures" / "runtime" / "template.yaml"


def runtime_fixture() -> tuple[Template, Resolver]:
    """The runtime fixture's template, its table and queues registered as provisioned."""
    template = Template.load(FIXTURE)
    resolver = Resolver(template)
    resolver.register("SourceTable", "source", Arn="arn:table", StreamArn="arn:stream")
    resolver.register("WorkQueue", "http://queue", Arn="arn:aws:sqs:us-east-1:123456789012:work")
    resolver.register("StreamFailures", "http://failures", Arn="arn:failures")
    sam.register_runtime_resources(template, resolver, {"AWS::SQS::Queue", "AWS::DynamoDB::Table"})
    return template, resolver


def test_stream_and_queue_events_become_event_sources() -> None:
    template, resolver = runtime_fixture()
    queue, stream = sorted(sam.event_sources(template, resolver), key=lambda s: s.function)
    assert isinstance(stream, sam.StreamSource)
    assert isinstance(queue, sam.QueueSource)
    assert (stream.stream_arn, stream.starting_position) == ("arn:stream", "TRIM_HORIZON")
    assert (stream.batch_size, stream.batching_window_s, stream.max_retries) == (10, 1.0, 2)
    assert stream.report_item_failures
    assert stream.on_failure_arn == "arn:failures"
    assert stream.filters[0]["eventName"] == ["INSERT", "MODIFY"]
    assert queue.queue_arn == "arn:aws:sqs:us-east-1:123456789012:work"
    assert (queue.batch_size, queue.max_concurrency) == (10, 2)


def test_a_disabled_functions_event_sources_do_not_run_and_a_misspelt_one_is_refused() -> None:
    template, resolver = runtime_fixture()
    sources, functions = sam.event_sources(template, resolver), sam.functions(template, resolver)
    queue = next(source for source in sources if isinstance(source, sam.QueueSource))
    stream = next(source for source in sources if isinstance(source, sam.StreamSource))
    assert enabled_event_sources(sources, functions, {queue.function}) == [stream]
    assert enabled_event_sources(sources, functions, ()) == sources
    with pytest.raises(TemplateError, match="no function Nope"):
        enabled_event_sources(sources, functions, {queue.function, "Nope"})


def test_the_tables_stream_has_two_readers_at_most() -> None:
    """The DynamoDB developer guide: no more than two processes should read one stream shard
    at a time; more can be throttled. The cost model counts the same readers."""
    template = Template.load(ROOT / "template.yaml")
    readers = Counter(
        json.dumps(event["Properties"]["Stream"], sort_keys=True, default=str)
        for function in template.of_type(sam.FUNCTION)
        for event in (function.properties.get("Events") or {}).values()
        if event.get("Type") == "DynamoDB"
    )
    assert len(readers) == 1, readers  # the table's stream
    assert list(readers.values()) == [cost.STREAM_CONSUMERS] == [2]


def test_a_queue_hiding_messages_shorter_than_the_function_runs_is_refused() -> None:
    template = template_of(
        """
Resources:
  Queue: {Type: AWS::SQS::Queue, Properties: {VisibilityTimeout: 5}}
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/api
      Handler: app.lambda_handler
      Runtime: python3.12
      Timeout: 30
      Events:
        Work: {Type: SQS, Properties: {Queue: !GetAtt Queue.Arn}}
"""
    )
    resolver = Resolver(template)
    resolver.register("Queue", "http://queue", Arn="arn:queue")
    with pytest.raises(TemplateError, match="VisibilityTimeout"):
        sam.event_sources(template, resolver)


RESERVED = """
Parameters:
  Reserved: {Type: Number, Default: 2}
Resources:
  Reserved:
    Type: AWS::Serverless::Function
    Properties:
      {code}
      ReservedConcurrentExecutions: !Ref Reserved
  Throttled:
    Type: AWS::Serverless::Function
    Properties:
      {code}
      ReservedConcurrentExecutions: 0
  Shared:
    Type: AWS::Serverless::Function
    Properties:
      {code}
""".replace(
    "{code}", "CodeUri: functions/api\n      Handler: app.lambda_handler\n      Runtime: python3.12"
)


def test_a_reserved_concurrency_caps_its_function_and_the_others_take_the_stacks_cap() -> None:
    template = template_of(RESERVED)
    functions = sam.functions(template, Resolver(template))
    caps = {name: worker_cap(spec, default_cap=8) for name, spec in functions.items()}
    assert caps == {"Reserved": 2, "Throttled": 0, "Shared": 8}


@pytest.mark.parametrize("value", ["-1", "1.5", "many", "true"])
def test_a_reserved_concurrency_that_is_not_a_whole_number_is_refused(value: str) -> None:
    template = template_of(
        RESERVED.replace(
            "ReservedConcurrentExecutions: 0", f"ReservedConcurrentExecutions: {value}"
        )
    )
    with pytest.raises(TemplateError, match="Throttled: ReservedConcurrentExecutions"):
        sam.functions(template, Resolver(template))


def test_an_unreadable_template_is_a_template_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read"):
        Template.load(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources: [unclosed")
    with pytest.raises(TemplateError, match="cannot read"):
        Template.load(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(TemplateError, match="Resources"):
        Template.load(listed)


# ------------------------------------------------------------------ buckets


LIFECYCLE_RULES = [
    {
        "Id": "tags",
        "Status": "Enabled",
        "TagFilters": [{"Key": "k", "Value": "v"}],
        "ExpirationInDays": 1,
    },
    {
        "Id": "both",
        "Status": "Enabled",
        "Prefix": "tmp/",
        "TagFilters": [{"Key": "k", "Value": "v"}],
        "ExpirationInDays": 2,
    },
    {
        "Id": "parts",
        "Status": "Enabled",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    },
]


def test_buckets_get_the_templates_cors_encryption_and_lifecycle_rules() -> None:
    """CloudFormation's property shapes differ from the S3 API's; moto refuses what S3 would."""
    from moto import mock_aws

    from local import aws

    template = Template.load(ROOT / "template.yaml")
    resolver = Resolver(template)
    files = template.resources["FilesBucket"]
    extra = {**files.properties, "LifecycleConfiguration": {"Rules": LIFECYCLE_RULES}}
    with mock_aws():
        clients = aws.AwsClients("https://s3.amazonaws.com")
        aws._create_bucket(files, resolver.resolve(files.properties), resolver, clients)
        other = Resource("Other", files.type, extra)
        aws._create_bucket(other, resolver.resolve(extra), resolver, clients)
        s3 = clients("s3")
        rules = s3.get_bucket_lifecycle_configuration(Bucket="parley-local-filesbucket")["Rules"]
        encryption = s3.get_bucket_encryption(Bucket="parley-local-filesbucket")
        converted = s3.get_bucket_lifecycle_configuration(Bucket="parley-local-other")["Rules"]
    assert [r["ID"] for r in rules] == [
        "ExpireUploadsNeverCompleted",
        "AbortIncompleteMultipartUploads",
    ]
    assert rules[0]["Filter"] == {"Tag": {"Key": "parley-upload", "Value": "pending"}}
    assert rules[1]["Filter"] == {"Prefix": ""}
    assert rules[1]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    default = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert default["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert converted[1]["Filter"] == {
        "And": {"Prefix": "tmp/", "Tags": [{"Key": "k", "Value": "v"}]}
    }
    assert converted[1]["Expiration"] == {"Days": 2}


def test_a_queue_fed_function_gets_a_worker_for_each_batch_its_queues_run_at_once() -> None:
    """The fan-out queue's consumers run FanoutConcurrency at a time, as in Lambda, even
    past the stack's default cap; a function without a queue keeps the default."""
    template = Template.load(ROOT / "template.yaml")
    resolver = Resolver(template, {"FanoutConcurrency": "40"})
    resolver.register("AppTable", "parley-local-AppTable", Arn="arn:table", StreamArn="arn:stream")
    for queue in template.of_type("AWS::SQS::Queue"):
        name = queue.logical_id
        resolver.register(name, f"http://sqs/{name}", Arn=f"arn:{name}", QueueName=name)
    sam.register_runtime_resources(template, resolver, {"AWS::DynamoDB::Table", "AWS::SQS::Queue"})
    functions = sam.functions(template, resolver)
    sources = sam.event_sources(template, resolver)
    concurrency = sam.queue_concurrency(sources)
    assert concurrency["FanoutFunction"] == 40
    caps = {name: worker_cap(spec, 8, concurrency.get(name, 0)) for name, spec in functions.items()}
    assert caps["FanoutFunction"] == 40
    assert caps["EventsDeliveryFunction"] == 10  # its queue's MaximumConcurrency
    assert caps["ApiFunction"] == 8
