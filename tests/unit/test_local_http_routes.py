"""HTTP API route selection: the most specific route wins, as in API Gateway."""

from __future__ import annotations

import pytest

from local.http_routes import RouteTable
from local.sam import HttpRoute


def route(key: str) -> HttpRoute:
    if key == "$default":
        return HttpRoute(method="ANY", path=None, function="Default", authorizer=None)
    method, path = key.split(" ", 1)
    return HttpRoute(method=method, path=path, function=key, authorizer=None)


# API Gateway's own example, plus variables in different places and the root.
TABLE = RouteTable(
    route(key)
    for key in (
        "GET /pets/dog/1",
        "GET /pets/dog/{id}",
        "GET /pets/{proxy+}",
        "ANY /{proxy+}",
        "GET /a/{x}/c",
        "GET /a/b/{y}",
        "ANY /things/{id}",
        "DELETE /things/{id}",
        "GET /",
        "$default",
    )
)


@pytest.mark.parametrize(
    ("method", "path", "expected", "parameters"),
    [
        ("GET", "/pets/dog/1", "GET /pets/dog/1", {}),
        ("GET", "/pets/dog/2", "GET /pets/dog/{id}", {"id": "2"}),
        ("GET", "/pets/cat/1", "GET /pets/{proxy+}", {"proxy": "cat/1"}),
        ("POST", "/pets/dog/1", "ANY /{proxy+}", {"proxy": "pets/dog/1"}),
        ("GET", "/a/b/c", "GET /a/b/{y}", {"y": "c"}),
        ("GET", "/a/z/c", "GET /a/{x}/c", {"x": "z"}),
        ("DELETE", "/things/7", "DELETE /things/{id}", {"id": "7"}),
        ("PUT", "/things/7", "ANY /things/{id}", {"id": "7"}),
        ("GET", "/", "GET /", {}),
        ("POST", "/", "$default", {}),
    ],
)
def test_the_most_specific_route_wins(
    method: str, path: str, expected: str, parameters: dict[str, str]
) -> None:
    match = TABLE.match(method, path)
    assert match is not None
    assert match.route.key == expected
    assert match.path_parameters == parameters


def test_path_parameters_are_decoded_after_matching_raw_segments() -> None:
    table = RouteTable([route("GET /files/{name}"), route("GET /tree/{path+}")])
    match = table.match("GET", "/files/a%2Fb%20c")
    assert match is not None
    assert match.path_parameters == {"name": "a/b c"}
    greedy = table.match("GET", "/tree/x/y%20z")
    assert greedy is not None
    assert greedy.path_parameters == {"path": "x/y z"}


@pytest.mark.parametrize("path", ["/files", "/files/", "/files/a/b", "/tree", "/tree/", "/other"])
def test_variables_need_a_value_and_without_default_nothing_matches(path: str) -> None:
    table = RouteTable([route("GET /files/{name}"), route("GET /tree/{path+}")])
    assert table.match("GET", path) is None


def test_the_gateway_log_never_shows_a_webhook_token() -> None:
    from local.gateway_http import loggable_path

    assert loggable_path("/hooks/pxh-secret") == "/hooks/***"
    assert loggable_path("/hooks/pxh-secret?x=1") == "/hooks/***?x=1"
    assert loggable_path("/channels/C1/hooks/x") == "/channels/C1/hooks/x"
    assert loggable_path("/commands/pxr-secret") == "/commands/***"
