"""The HTTP API's OpenAPI document, from the Powertools resolver in app.py.

Powertools describes the routes, parameters, bodies and success replies from the handlers'
type hints. What it cannot see is written here, once for every route: the error replies
that app.py's exception handlers produce (API.md's `{"error": {code, message}}`, in place
of Powertools' own 422 shape, which Parley never sends), bodiless 204s, and the credential
each route takes: the bearer JWT that API Gateway's authorizer checks before any route
runs, the URL's own token on /hooks and /commands (no header), a bot token on Slack's Web
API (/api/{method}, SlackApiFunction's routes, described here by hand). Each operation's
tag, id, summary and examples are in openapi_operations.py.

`make openapi` writes docs/openapi.json; tests/unit/test_openapi.py fails when the code
and the committed document differ. The Lambda never imports this module.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from openapi_operations import OPERATIONS, REPLY_EXAMPLES, REQUEST_EXAMPLES, TAGS

from parley.edge.schemas import ErrorReply

ROOT = Path(__file__).resolve().parents[2]
# One version for the package, the template and this document (tests/functional/test_version.py).
TITLE = "Parley"
VERSION: str = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
SECURITY_SCHEMES = {
    "bearerJwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Cognito access or ID token of the stack's user pool (API.md, Identity)",
    },
    "slackBotToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An app's bot token (`xoxb-...`, from createApp or rotateBotToken); "
        "Slack's `token` body or query field is taken too",
    },
}
# API.md's error codes: any route may answer them (validation, membership, limits).
ERRORS = {
    400: "invalid_request: the request is malformed",
    401: "unauthorized: no valid bearer token",
    403: "forbidden: the caller may see the resource but not do this",
    404: "not_found: no such resource, or one the caller may not see",
    409: "conflict: a name is taken, or the resource changed meanwhile",
    413: "too_large: the text, body or request line is over its limit",
    422: "invalid_request: a parameter or the body fails validation",
    429: "rate_limited: slow down (see Retry-After)",
}
# Raised by the search route alone, when OpenSearch cannot be reached.
UNAVAILABLE = {"/workspaces/{wid}/search": {503: "unavailable: search is down; retry later"}}


# Statuses API Gateway also answers itself, in its own `{"message"}` shape (HTTP APIs have
# no gateway responses to reshape them): a missing or bad token, a body over 10 MB or a
# request line over its quota, stage throttling. The local gateway adds Parley's `error`.
GATEWAY_STATUSES = {401, 403, 404, 413, 429}
_PARLEY_ERROR = {"$ref": "#/components/schemas/ErrorReply"}
_GATEWAY_OR_PARLEY_ERROR = {
    "anyOf": [
        _PARLEY_ERROR,
        {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
        },
    ]
}


def _error_schema() -> dict[str, Any]:
    return ErrorReply.model_json_schema(ref_template="#/components/schemas/{model}")


def _answers_as_slack(responses: dict[str, Any]) -> bool:
    """The Slack-form routes (/hooks, /commands) declare their own errors, in Slack's shape
    (Powertools' 422 aside, which every route with a parameter gets)."""
    return any(status.startswith("4") and status != "422" for status in responses)


def _slack_form(operation: dict[str, Any]) -> None:
    """Slack's errors as the route declares them, beside API Gateway's own `{"message"}`;
    no 422 (the route reads its body itself) and no JWT (the URL's token is the key)."""
    responses = operation["responses"]
    responses.pop("422", None)
    gateway = _GATEWAY_OR_PARLEY_ERROR["anyOf"][1]
    for status in GATEWAY_STATUSES & {int(s) for s in responses}:
        content = responses[str(status)]["content"]
        own = content.get("application/json")
        schema = {"anyOf": [own["schema"], gateway]} if own else gateway
        content["application/json"] = {"schema": schema}
    operation["responses"] = dict(sorted(responses.items()))
    # The path's token is the credential: OpenAPI has no scheme for a path segment, so no
    # scheme (no Authorization header), and the parameter says so.
    operation["security"] = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path" and parameter["name"] == "token":
            parameter["description"] = (
                "The secret token of the URL Parley issued (a webhook's url, a slash command's "
                "response_url): the credential; keep the URL secret"
            )


def _slack_web_api() -> dict[str, Any]:
    """/api/{method}: Slack's Web API, SlackApiFunction's routes (not Powertools')."""
    answer = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SlackAnswer"}}}
    }
    method = {
        "name": "method",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "Slack's method name, e.g. chat.postMessage (API.md lists them)",
        "example": "chat.postMessage",
    }
    responses = {
        "200": {
            "description": "Slack's answer: `ok` true, or false with Slack's error code",
            **answer,
        },
        "413": {"description": "too_large: the body is over API Gateway's limit", **answer},
        "429": {
            "description": "ratelimited: retry after Retry-After seconds",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            **answer,
        },
    }
    form = {"type": "object", "additionalProperties": True}
    call = {
        "tags": ["slack web api"],
        "parameters": [method],
        "responses": responses,
        "security": [{"slackBotToken": []}],
    }
    return {
        "get": {
            **call,
            "operationId": "callSlackMethodWithQuery",
            "summary": "Call a Slack Web API method, its arguments in the query string",
        },
        "post": {
            **call,
            "operationId": "callSlackMethod",
            "summary": "Call a Slack Web API method, its arguments as a form or JSON body",
            "requestBody": {
                "content": {
                    "application/x-www-form-urlencoded": {"schema": form},
                    "application/json": {
                        "schema": form,
                        "example": {"channel": "C0123456789", "text": "Deployed"},
                    },
                }
            },
        },
    }


SLACK_ANSWER = {
    "type": "object",
    "required": ["ok"],
    "properties": {
        "ok": {"type": "boolean"},
        "error": {"type": "string", "description": "Slack's error code when ok is false"},
    },
    "additionalProperties": True,
    "example": {"ok": False, "error": "channel_not_found"},
}


def _describe(key: str, operation: dict[str, Any]) -> None:
    """Tag, id, summary and examples from openapi_operations (a route without is an error)."""
    try:
        described = OPERATIONS[key]
    except KeyError:
        raise KeyError(f"{key}: no entry in functions/api/openapi_operations.py") from None
    operation.update(
        tags=[described.tag], operationId=described.operation_id, summary=described.summary
    )
    for content in (operation.get("requestBody") or {}).get("content", {}).values():
        name = content["schema"].get("$ref", "").rsplit("/", 1)[-1]
        if name in REQUEST_EXAMPLES:
            content["example"] = REQUEST_EXAMPLES[name]
    for status, response in operation["responses"].items():
        for content in (response.get("content") or {}).values():
            schema = content.get("schema", {})
            names = [s.get("$ref", "").rsplit("/", 1)[-1] for s in schema.get("anyOf", [schema])]
            known = [name for name in names if name in REPLY_EXAMPLES]
            if status.startswith("2") and known:
                content["example"] = REPLY_EXAMPLES[known[0]]


def document(app: APIGatewayHttpResolver) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            summary="Slack-style collaboration backend: the HTTP API (docs/api.md)",
            description="The HTTP API of API.md's contract, version 1 (docs/api.md, the "
            "reference; docs/asyncapi.yaml, the WebSocket). Routes take a Cognito JWT unless "
            'they say otherwise; errors are `{"error": {code, message}}`.',
            security_schemes=SECURITY_SCHEMES,
            security=[{"bearerJwt": []}],
        )
    )
    error_schema = _error_schema()
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components.pop("ResponseValidationError", None)
    components.update(error_schema.pop("$defs", {}))
    components["ErrorReply"] = error_schema
    components["SlackAnswer"] = SLACK_ANSWER
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            _describe(f"{method.upper()} {path}", operation)
            responses = operation["responses"]
            if _answers_as_slack(responses):
                _slack_form(operation)
                continue
            errors = ERRORS | UNAVAILABLE.get(path, {})
            for status, description in errors.items():
                error = _GATEWAY_OR_PARLEY_ERROR if status in GATEWAY_STATUSES else _PARLEY_ERROR
                content = {"application/json": {"schema": error}}
                responses[str(status)] = {"description": description, "content": content}
            if "204" in responses:
                responses["204"].pop("content", None)
            operation["responses"] = dict(sorted(responses.items()))
    schema["paths"]["/api/{method}"] = _slack_web_api()
    schema["tags"] = [{"name": name, "description": text} for name, text in TAGS.items()]
    return schema


def render(app: APIGatewayHttpResolver) -> str:
    return json.dumps(document(app), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    from app import app as parley_app

    target = Path(sys.argv[1])
    target.write_text(render(parley_app))
    print(f"wrote {target}")
