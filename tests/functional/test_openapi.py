"""docs/openapi.json: what the code generates, the template's routes, and API.md's table."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from types import ModuleType

import jsonschema
import referencing
import referencing.jsonschema

from tests.functional.conftest import ROOT, load_function, template, template_http_routes

DOCUMENT = ROOT / "docs" / "openapi.json"
API_MD = ROOT.parent / "shared" / "API.md"
# API.md's HTTP routes as of the last check against it: the contract's table where API.md is
# not beside the repository (a CI checkout), compared with API.md wherever it is.
CONTRACT_ROUTES = ROOT / "tests" / "functional" / "api_md_routes.txt"
API_MD_FACTS = ROOT / "tests" / "functional" / "api_md_contract.json"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
METHODS = ("get", "post", "put", "patch", "delete")


def _builder() -> ModuleType:
    load_function("api")  # puts app.py's directory's modules in place, as Lambda would
    path = ROOT / "functions" / "api" / "openapi_document.py"
    spec = importlib.util.spec_from_file_location("parley_openapi_document", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))  # its sibling openapi_operations, as `make openapi` has it
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def _routes(document: dict) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in METHODS
    }


def api_md_routes(text: str) -> set[str]:
    """The route keys in API.md's HTTP table (`PUT /a`, `DELETE` the same: both)."""
    section = text.split("## HTTP routes", 1)[1].split("\n## ", 1)[0]
    routes = set()
    for line in section.splitlines():
        first_cell = line.split("|")[1] if line.startswith("|") else ""
        found = re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`", first_cell)
        routes |= {f"{method} {path}" for method, path in found}
        for method in re.findall(r"`(GET|POST|PUT|PATCH|DELETE)` the same", first_cell):
            routes |= {f"{method} {path}" for _, path in found}
    return routes


def test_the_committed_document_is_what_the_code_generates() -> None:
    generated = _builder().render(load_function("api").app)
    assert generated == DOCUMENT.read_text(), "docs/openapi.json is stale: run `make openapi`"


def _routes_of(function: str) -> set[str]:
    events = template()["Resources"][function]["Properties"]["Events"]
    return {
        f"{e['Properties']['Method'].upper()} {e['Properties']['Path']}"
        for e in events.values()
        if e["Type"] == "HttpApi" and "Path" in e["Properties"]
    }


def test_the_document_describes_exactly_the_template_routes() -> None:
    expected = template_http_routes() | _routes_of("SlackApiFunction")
    assert _routes(json.loads(DOCUMENT.read_text())) == expected


def _contract_routes() -> set[str]:
    return set(CONTRACT_ROUTES.read_text().split("\n")) - {""}


def test_the_contract_snapshot_is_api_md_where_api_md_is_present() -> None:
    if API_MD.exists():
        current = "\n".join(sorted(api_md_routes(API_MD.read_text()))) + "\n"
        assert CONTRACT_ROUTES.read_text() == current, (
            f"API.md's routes changed: write them to {CONTRACT_ROUTES.name} and implement them"
        )
    routes = _contract_routes()
    assert len(routes) >= 30
    assert all(re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE) /\S*", route) for route in routes)


def test_the_document_describes_api_md_routes() -> None:
    contract = _contract_routes()
    documented = _routes(json.loads(DOCUMENT.read_text()))
    assert contract - documented == set(), "API.md routes the code lacks"
    # The contract may be added to, never renamed: every addition is written up beside it.
    # API.md's other sections (team features) are its routes too (api_md_contract.json).
    additions = ARCHITECTURE.read_text().split("## Additions to API.md", 1)[1]
    elsewhere = set(json.loads(API_MD_FACTS.read_text())["routes"])
    unwritten = {
        route for route in documented - contract - elsewhere if f"`{route}`" not in additions
    }
    assert unwritten == set(), "routes beyond API.md missing from docs/architecture.md"


def test_api_md_table_reader_takes_both_routes_of_a_shared_row() -> None:
    text = "## HTTP routes\n| a | b |\n| `PUT /p/{x}`, `DELETE` the same | pin |\n## Next\n"
    assert api_md_routes(text) == {"PUT /p/{x}", "DELETE /p/{x}"}


def test_every_operation_declares_the_error_shape_and_the_bearer_token() -> None:
    document = json.loads(DOCUMENT.read_text())
    assert document["components"]["securitySchemes"]["bearerJwt"]["scheme"] == "bearer"
    assert document["security"] == [{"bearerJwt": []}]
    error = {"$ref": "#/components/schemas/ErrorReply"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if path in SLACK_FORM or path == SLACK_WEB_API:
                continue
            for status in ("400", "409", "422"):
                assert responses[status]["content"]["application/json"]["schema"] == error
            for status in ("401", "403", "404", "413", "429"):  # API Gateway's own, too
                either = responses[status]["content"]["application/json"]["schema"]["anyOf"]
                assert error in either, f"{method} {path} {status}"
            assert not any(
                s.startswith("5") for s in responses if path != "/workspaces/{wid}/search"
            )


# Routes that Slack's own clients call (WebhookClient, Bolt's respond): Slack's answers,
# and the URL's token instead of a JWT. Their media type for each answer.
SLACK_FORM = {"/hooks/{token}": "text/plain", "/commands/{token}": "application/json"}


def test_the_slack_form_routes_declare_slacks_answers_and_no_jwt() -> None:
    document = json.loads(DOCUMENT.read_text())
    reply = {"$ref": "#/components/schemas/CommandResponseReply"}
    for path, media_type in SLACK_FORM.items():
        operation = document["paths"][path]["post"]
        assert operation["security"] == []
        responses = operation["responses"]
        assert set(responses) == {"200", "400", "403", "404", "413", "429"}
        for status, response in responses.items():
            own = response["content"][media_type]["schema"]
            if media_type == "text/plain":
                assert own == {"type": "string"}, (path, status)
            else:  # beside API Gateway's own `{"message"}` where it may answer
                assert reply in (own.get("anyOf") or [own]), (path, status)


def test_success_replies_are_declared_with_their_real_status() -> None:
    responses = {
        f"{method.upper()} {path}": set(operation["responses"])
        for path, operations in json.loads(DOCUMENT.read_text())["paths"].items()
        for method, operation in operations.items()
    }
    assert {"201", "200"} <= responses["POST /channels/{cid}/messages"]
    assert "201" in responses["POST /workspaces"]
    assert "200" not in responses["POST /workspaces"]
    leave = json.loads(DOCUMENT.read_text())["paths"]["/channels/{cid}/leave"]["post"]
    assert "content" not in leave["responses"]["204"]
    for key, statuses in responses.items():
        assert statuses & {"200", "201", "202", "204"}, key


def test_error_schema_matches_what_the_api_answers(api: object) -> None:
    status, body = api("GET", "/channels/C-none")  # type: ignore[operator]  # the api fixture is typed as object here
    assert status == 404
    schema = json.loads(DOCUMENT.read_text())["components"]["schemas"]
    assert set(body) == set(schema["ErrorReply"]["required"])
    assert set(body["error"]) == set(schema["ErrorBody"]["required"])


SLACK_WEB_API = "/api/{method}"


def _operations(document: dict) -> dict[str, dict]:
    return {
        f"{method.upper()} {path}": operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


def _template_auth_none() -> set[str]:
    """The HTTP routes whose template event says `Authorizer: NONE`."""
    routes = set()
    for function in ("ApiFunction", "SlackApiFunction"):
        for event in template()["Resources"][function]["Properties"]["Events"].values():
            props = event["Properties"]
            if (props.get("Auth") or {}).get("Authorizer") == "NONE":
                routes.add(f"{props['Method'].upper()} {props['Path']}")
    return routes


def test_each_route_declares_the_credential_it_takes() -> None:
    """The JWT where API Gateway checks one; the bot token on Slack's Web API; none (the
    URL's token) on webhooks and response_urls: as the template's authorizers are."""
    document = json.loads(DOCUMENT.read_text())
    schemes = document["components"]["securitySchemes"]
    assert schemes["slackBotToken"]["scheme"] == "bearer"
    unguarded = _template_auth_none()
    assert unguarded == {"POST /hooks/{token}", "POST /commands/{token}", "GET /api/{method}",
                         "POST /api/{method}"}  # fmt: skip
    for key, operation in _operations(document).items():
        security = operation.get("security", document["security"])
        if key.endswith(SLACK_WEB_API):
            assert security == [{"slackBotToken": []}], key
        elif key in unguarded:
            assert security == [], key
            token = [p for p in operation["parameters"] if p["name"] == "token"]
            assert "credential" in token[0]["description"], key
        else:
            assert security == [{"bearerJwt": []}], key


def test_every_operation_has_a_tag_an_intent_id_and_a_real_summary() -> None:
    document = json.loads(DOCUMENT.read_text())
    tags = {tag["name"] for tag in document["tags"]}
    ids = []
    for key, operation in _operations(document).items():
        method, path = key.split(" ", 1)
        assert len(operation["tags"]) == 1, key
        assert operation["tags"][0] in tags, key
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]*)+", operation["operationId"]), key
        summary = operation["summary"]
        assert path not in summary, key
        assert not summary.startswith(method), key
        assert len(summary.split()) >= 3, key
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids)), "operation ids repeat"
    assert tags == {t for op in _operations(document).values() for t in op["tags"]}


def test_the_operations_table_has_no_route_the_api_lacks() -> None:
    assert set(_builder().OPERATIONS) == template_http_routes()


def _validator(document: dict, schema: dict) -> jsonschema.protocols.Validator:
    registry = referencing.Registry().with_resource(
        "urn:openapi", referencing.jsonschema.DRAFT202012.create_resource(document)
    )
    rooted = json.loads(json.dumps(schema).replace('"#/components', '"urn:openapi#/components'))
    return jsonschema.Draft202012Validator(rooted, registry=registry)


def _examples(document: dict) -> list[tuple[str, dict, object]]:
    found = []
    for key, operation in _operations(document).items():
        bodies = [("request", operation.get("requestBody") or {})]
        bodies += [(status, r) for status, r in operation["responses"].items()]
        for where, body in bodies:
            for content in (body.get("content") or {}).values():
                if "example" in content:
                    found.append((f"{key} {where}", content["schema"], content["example"]))
    return found


def test_every_json_request_body_has_an_example_that_fits_its_schema() -> None:
    document = json.loads(DOCUMENT.read_text())
    for key, operation in _operations(document).items():
        content = (operation.get("requestBody") or {}).get("content", {})
        if "application/json" in content:
            assert "example" in content["application/json"], key
    examples = _examples(document)
    assert len(examples) >= 20
    for where, schema, example in examples:
        errors = [e.message for e in _validator(document, schema).iter_errors(example)]
        assert errors == [], where


def test_the_example_check_catches_one_that_does_not_fit() -> None:
    document = json.loads(DOCUMENT.read_text())
    post = document["paths"]["/channels/{cid}/messages"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert list(_validator(document, schema).iter_errors({"text": 5}))
