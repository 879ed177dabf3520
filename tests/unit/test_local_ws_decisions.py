"""The WebSocket gateway's decisions: route selection and the REQUEST authorizer's policy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.gateway_ws import evaluate_authorizer, select_route
from local.workers import Invocation

ROUTES = {"$connect": 1, "$disconnect": 1, "$default": 1, "sendMessage": 1, "ping": 1}
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/$connect"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('{"action": "sendMessage", "text": "hi"}', "sendMessage"),
        ('{"action": "ping"}', "ping"),
        ('{"action": "unknown"}', "$default"),
        ('{"action": "$connect"}', "$default"),
        ('{"action": 5}', "$default"),
        ('{"text": "no action"}', "$default"),
        ('["action", "ping"]', "$default"),
        ('"ping"', "$default"),
        ("not json", "$default"),
        ("", "$default"),
        (b'{"action": "ping"}', "$default"),
        ("[" * 10_000 + "]" * 10_000, "$default"),
    ],
)
def test_route_selection_on_the_body_field(data: str | bytes, expected: str) -> None:
    assert select_route(data, ("action",), ROUTES) == expected


def test_route_selection_follows_nested_fields() -> None:
    assert select_route('{"meta": {"route": "ping"}}', ("meta", "route"), ROUTES) == "ping"
    assert select_route('{"meta": "ping"}', ("meta", "route"), ROUTES) == "$default"


def policy(effect: str, resource: Any = METHOD_ARN, **extra: Any) -> dict[str, Any]:
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        **extra,
    }


def answer(payload: Any) -> Invocation:
    return Invocation("r1", payload=payload)


def test_an_allow_policy_connects_and_passes_its_context_on() -> None:
    decision = evaluate_authorizer(
        answer(policy("Allow", context={"userId": "u1", "n": 2})), METHOD_ARN
    )
    assert decision.status == 200
    assert decision.context == {"userId": "u1", "n": 2, "principalId": "user-1"}


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:execute-api:us-east-1:123456789012:abc123/*",
        "arn:aws:execute-api:*:*:abc123/dev/*",
        ["arn:aws:execute-api:us-east-1:123456789012:other/*", METHOD_ARN],
        "*",
    ],
)
def test_resources_match_with_wildcards(resource: Any) -> None:
    assert evaluate_authorizer(answer(policy("Allow", resource)), METHOD_ARN).status == 200


@pytest.mark.parametrize(
    ("invocation", "status"),
    [
        (answer(policy("Deny")), 403),
        (answer(policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:other/*")), 403),
        (
            answer(
                {
                    **policy("Allow"),
                    "policyDocument": {
                        "Statement": [
                            policy("Allow")["policyDocument"]["Statement"][0],
                            policy("Deny")["policyDocument"]["Statement"][0],
                        ]
                    },
                }
            ),
            403,
        ),
        (Invocation("r1", error={"errorType": "Exception", "errorMessage": "Unauthorized"}), 401),
        (Invocation("r1", error={"errorType": "KeyError", "errorMessage": "'token'"}), 500),
        (answer(None), 500),
        (answer({"policyDocument": policy("Allow")["policyDocument"]}), 500),
        (answer(policy("Allow", context={"nested": {"a": 1}})), 500),
        (answer({**policy("Allow"), "policyDocument": {"Statement": "Allow"}}), 500),
    ],
    ids=[
        "deny",
        "other-resource",
        "deny-beats-allow",
        "unauthorized-error",
        "other-error",
        "null",
        "no-principal",
        "nested-context",
        "bad-statement",
    ],
)
def test_refusals(invocation: Invocation, status: int) -> None:
    assert evaluate_authorizer(invocation, METHOD_ARN).status == status


def test_a_single_statement_object_is_accepted() -> None:
    single = policy("Allow")
    single["policyDocument"]["Statement"] = single["policyDocument"]["Statement"][0]
    assert evaluate_authorizer(answer(json.loads(json.dumps(single))), METHOD_ARN).status == 200
