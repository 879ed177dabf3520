"""The HTTP API's OpenAPI document, from the Powertools resolver in app.py.

Powertools describes the routes, parameters, bodies and success replies from the handlers'
type hints. What it cannot see is written here, once for every route: the error replies
that app.py's exception handlers produce (API.md's `{"error": {code, message}}`, in place
of Powertools' own 422 shape, which Parley never sends), bodiless 204s, and the bearer JWT
that API Gateway's authorizer checks before any route runs.

`make openapi` writes docs/openapi.json; tests/unit/test_openapi.py fails when the code
and the committed document differ. The Lambda never imports this module.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from parley.edge.schemas import ErrorReply

TITLE, VERSION = "Parley", "1"
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
    operation["security"] = []


def document(app: APIGatewayHttpResolver) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            summary="Slack-style collaboration backend: the HTTP API (see API.md)",
            security_schemes={
                "bearerJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
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
    for path, operations in schema["paths"].items():
        for operation in operations.values():
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
    return schema


def render(app: APIGatewayHttpResolver) -> str:
    return json.dumps(document(app), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    from app import app as parley_app

    target = Path(sys.argv[1])
    target.write_text(render(parley_app))
    print(f"wrote {target}")
