"""docs/api.md, the repository's own reference for clients, held to the contract (API.md,
through the snapshot the repository keeps of it) and to the code (routes, actions, events).

Never skipped: the snapshot is in the repository, so a checkout without ../shared checks
docs/api.md all the same; where API.md is present, the snapshot must be what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.functional import api_contract
from tests.functional.conftest import ROOT, template, template_http_routes
from tests.functional.test_asyncapi import sent_types

API_DOC = ROOT / "docs" / "api.md"
README = ROOT / "README.md"


def _deployed_routes() -> set[str]:
    events = template()["Resources"]["SlackApiFunction"]["Properties"]["Events"].values()
    slack = {f"{e['Properties']['Method'].upper()} {e['Properties']['Path']}" for e in events}
    return template_http_routes() | slack


def _websocket_actions() -> set[str]:
    return {
        r["Properties"]["RouteKey"]
        for r in template()["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
    } - {"$connect", "$disconnect", "$default"}


def contract_problems(text: str, contract: api_contract.Facts) -> list[str]:
    """What of the contract the reference lacks: a route, action, event, error code, Slack
    method or scope, an object or one of its fields."""
    documented = api_contract.facts(text)
    problems = []
    for kind, expected in contract.items():
        missing = sorted(set(expected) - set(documented.get(kind, [])))
        if missing:
            problems.append(f"docs/api.md lacks the contract's {kind}: {missing}")
    return problems


def code_problems(text: str) -> list[str]:
    """Where the reference and the code disagree: its route tables against the deployed
    routes, its client frames against the WebSocket routes, its events against what the code
    sends, its not-built list against what is built."""
    built = api_contract.section(text, "HTTP routes")
    not_built = api_contract.section(text, "In the contract, not built yet")
    events = api_contract.events(api_contract.section(text, "Server events"))
    actions = set(api_contract._ACTION.findall(api_contract.section(text, "Client frames")))
    deployed = _deployed_routes()
    sent = sent_types() - {"ack", "pong", "error"}
    pairs = [
        ("routes in its HTTP tables", api_contract.routes(built), deployed),
        ("client frames", actions, _websocket_actions()),
        ("server events", events, sent),
    ]
    problems = [
        f"docs/api.md's {what}: {sorted(doc - code)} not in the code, {sorted(code - doc)} missing"
        for what, doc, code in pairs
        if doc != code
    ]
    listed_as_not_built = api_contract.routes(not_built) & deployed
    if listed_as_not_built:
        problems.append(f"docs/api.md calls built routes not built: {sorted(listed_as_not_built)}")
    if api_contract.events(not_built) & sent:
        problems.append("docs/api.md calls events the code sends not built")
    return problems


def test_the_snapshot_is_api_md_where_api_md_is_present() -> None:
    snapshot = api_contract.snapshot()
    if api_contract.API_MD.exists():
        assert snapshot == api_contract.facts(api_contract.API_MD.read_text()), (
            "API.md changed: run `.venv/bin/python -m tests.functional.api_contract`, then "
            "bring docs/api.md and the code to it"
        )
    assert len(snapshot["routes"]) >= 60
    assert {"actions", "events", "errors", "object message", "slack_methods"} <= set(snapshot)


def test_docs_api_md_holds_the_whole_contract() -> None:
    assert contract_problems(API_DOC.read_text(), api_contract.snapshot()) == []


def test_docs_api_md_holds_api_md_itself_where_present() -> None:
    """Beside the snapshot, API.md's own text, so a change to API.md shows here at once."""
    if api_contract.API_MD.exists():
        contract = api_contract.facts(api_contract.API_MD.read_text())
        assert contract_problems(API_DOC.read_text(), contract) == []


def test_docs_api_md_agrees_with_the_code() -> None:
    assert code_problems(API_DOC.read_text()) == []


EDITS = {
    "a route dropped": ("| `GET /channels/{cid}/pins` |", "| GET pins |"),
    "an event dropped": ("| `thread_marked` |", "| thread marked |"),
    "an object's field dropped": ("clientMsgId?, blocks?}", "blocks?}"),
    "an error code dropped": ("`conflict` (409)", "conflict (409)"),
    "a Slack method dropped": ("`users.lookupByEmail`", "users.lookupByEmail"),
    "an action renamed": ('"action": "markRead"', '"action": "markAsRead"'),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_the_checks_catch_a_reference_that_drifted(edit: tuple[str, str]) -> None:
    old, new = edit
    text = API_DOC.read_text()
    assert old in text
    drifted = text.replace(old, new)
    assert contract_problems(drifted, api_contract.snapshot()) + code_problems(drifted) != []


def test_a_route_the_code_lacks_is_caught() -> None:
    text = API_DOC.read_text().replace(
        "| `GET /me` |", "| `GET /me` |\n| `GET /me/avatar` | an avatar |", 1
    )
    assert code_problems(text) != []


def test_the_readme_links_the_contract_in_the_repository() -> None:
    readme = README.read_text()
    for document in ("docs/api.md", "docs/openapi.json", "docs/asyncapi.yaml"):
        assert f"]({document})" in readme, document
    assert "../shared" not in readme
    for target in ("docs/api.md", "docs/asyncapi.yaml"):
        assert Path(ROOT / target).is_file()
