"""The SSRF guard for apps' URLs, and the pure parts of slash commands (recognising one,
signing its form body, reading the app's answer). No sockets: the resolver is a stand-in;
tests/functional/test_app_http.py drives the guarded client over real connections."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from parley.apps import commands
from parley.apps.delivery import Reply
from parley.apps.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from parley.apps.urls import UnsafeUrl, check_url, refused_address
from parley.config import ConfigError, Settings
from parley.edge.schemas import CommandResponse


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104  # an address under test, not a bind
        "224.0.0.251",
        "239.255.255.250",
        "255.255.255.255",
        "::1",
        "fe80::1%eth0",
        "fd00::1",
        "ff02::1",
        "::ffff:169.254.169.254",
        "::",
    ],
)
def test_inside_addresses_are_refused(address: str) -> None:
    assert refused_address(address) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_unicast_addresses_pass(address: str) -> None:
    assert refused_address(address) is None


def test_every_address_a_name_resolves_to_must_be_public() -> None:
    def resolve(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.9"]  # one public, one private: refused

    with pytest.raises(UnsafeUrl, match=r"10\.0\.0\.9 is a private address"):
        check_url("https://mixed.example.com/x", allow_private=False, resolve=resolve)
    check_url("https://mixed.example.com/x", allow_private=True, resolve=resolve)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://x", "http:///nohost"]
)
def test_only_http_urls_with_a_host_are_callable_whatever_the_setting(url: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(UnsafeUrl):
            check_url(url, allow_private=allow_private, resolve=lambda h, p: ["93.184.215.14"])


def test_the_port_is_resolved_with_the_host() -> None:
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["93.184.215.14"]

    check_url("https://a.example.com/x", allow_private=False, resolve=resolve)
    check_url("http://b.example.com:8080/x", allow_private=False, resolve=resolve)
    assert asked == [("a.example.com", 443), ("b.example.com", 8080)]
    with pytest.raises(UnsafeUrl, match="port"):
        check_url("http://c.example.com:99999/x", allow_private=False, resolve=resolve)


def test_the_setting_is_false_unless_the_environment_says_true() -> None:
    assert Settings.from_environ({"TABLE_NAME": "t-1"}).allow_private_app_urls is False
    on = Settings.from_environ({"TABLE_NAME": "t-1", "ALLOW_PRIVATE_APP_URLS": "true"})
    assert on.allow_private_app_urls is True
    with pytest.raises(ConfigError, match="true or false"):
        Settings.from_environ({"TABLE_NAME": "t-1", "ALLOW_PRIVATE_APP_URLS": "yes"})


# ------------------------------------------------------------------ slash commands, pure


@pytest.mark.parametrize(
    ("text", "command", "rest"),
    [
        ("/echo hi", "/echo", "hi"),
        ("/echo", "/echo", ""),
        ("/Echo  two words \n", "/echo", "two words"),
        ("/deploy-prod\nline two", "/deploy-prod", "line two"),
    ],
)
def test_a_command_is_a_slash_and_a_name_first_in_the_text(
    text: str, command: str, rest: str
) -> None:
    assert commands.parse(text) == commands.Invocation(command=command, text=rest)


@pytest.mark.parametrize("text", ["hi /echo", " /echo", "/usr/bin", "/", "// x", "/a.b"])
def test_other_text_is_a_message(text: str) -> None:
    assert commands.parse(text) is None


def test_the_form_body_is_signed_over_its_exact_bytes() -> None:
    secret = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's documented example secret
    fields = {"command": "/echo", "text": "a&b=c ü", "response_url": "https://x/commands/pxr-1"}
    body, headers = commands.request(secret, fields)
    assert dict(urllib.parse.parse_qsl(body.decode())) == fields
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    timestamp = headers[TIMESTAMP_HEADER]
    assert headers[SIGNATURE_HEADER] == sign(secret, timestamp, body)
    verify(secret, timestamp, headers[SIGNATURE_HEADER], body)


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        (Reply(200, b""), CommandResponse()),
        (Reply(204), CommandResponse()),
        (Reply(200, b"hello", "text/plain"), CommandResponse(text="hello")),
        (Reply(200, b'{"text": "hi"}', "application/json"), CommandResponse(text="hi")),
        (
            Reply(200, b'{"text": "hi", "response_type": "in_channel"}', "application/json"),
            CommandResponse(text="hi", response_type="in_channel"),
        ),
        (
            Reply(200, b'{"text": "", "blocks": [{"type": "divider"}]}', "application/json"),
            CommandResponse(blocks=[{"type": "divider"}]),
        ),
    ],
)
def test_the_apps_answer_is_read_as_slack_defines_it(reply: Reply, answer: CommandResponse) -> None:
    assert commands.read_answer(reply) == answer


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(200, b'{"text": 5}', "application/json"), "app_error"),
        (Reply(200, b"[1]", "application/json"), "app_error"),
        (Reply(200, b"{nope", "application/json"), "app_error"),
        (Reply(302), "app_error"),
        (Reply(0), "app_unreachable"),
    ],
)
def test_an_answer_that_is_not_slacks_is_a_failure(reply: Reply, error: str) -> None:
    failure = commands.read_answer(reply)
    assert isinstance(failure, commands.Failure)
    assert failure.error == error
    assert failure.detail


@pytest.mark.parametrize(
    ("answer", "nothing"),
    [
        ({}, True),
        ({"text": "  "}, True),
        ({"text": "hi"}, False),
        ({"blocks": [{"type": "divider"}]}, False),
        ({"delete_original": True}, False),
        ({"attachments": [{"fallback": "summary"}]}, False),
    ],
)
def test_an_acknowledgement_alone_shows_nothing(answer: dict[str, Any], nothing: bool) -> None:
    assert commands.shows_nothing(CommandResponse.model_validate(answer)) is nothing


@pytest.mark.parametrize(
    ("name", "domain"),
    [
        ("Acme", "acme"),
        ("Acme Corp, Ltd.", "acme-corp-ltd"),
        ("Élan 42", "elan-42"),
        ("!!", "parley"),
    ],
)
def test_a_workspace_name_becomes_slacks_team_domain(name: str, domain: str) -> None:
    assert commands.team_domain(name) == domain
