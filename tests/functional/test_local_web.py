"""local/web.py serves the client under the content security policy CloudFront sends in AWS
(the template's `WebSecurityHeaders`), with the local stack's origins where AWS's are."""

from __future__ import annotations

from pathlib import Path

import requests

from local.template import Template
from local.web import TEMPLATE, WebServer, content_security_policy

CONFIG = {
    "httpUrl": "http://127.0.0.1:3000",
    "wsUrl": "ws://127.0.0.1:3001",
    "region": "us-east-1",
    "cognito": {"endpoint": "http://127.0.0.1:3002", "userPoolId": "p", "clientId": "c"},
    "local": True,
}


def _directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


def test_the_policy_is_the_templates_with_the_local_origins_to_connect_to() -> None:
    deployed = (
        Template.load(TEMPLATE)
        .resources["WebSecurityHeaders"]
        .properties["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"][
            "ContentSecurityPolicy"
        ]["ContentSecurityPolicy"]
    )
    local = _directives(content_security_policy(CONFIG))
    aws = _directives(deployed)
    assert "https://*.amazonaws.com" in aws["connect-src"]
    assert local["connect-src"] == [
        "'self'",
        "http://127.0.0.1:3000",
        "http://127.0.0.1:3002",
        "ws://127.0.0.1:3001",
    ]
    # Everything else is as deployed: the script, the styles, no framing, no plugins.
    assert {k: v for k, v in local.items() if k != "connect-src"} == {
        k: v for k, v in aws.items() if k != "connect-src"
    }
    assert local["script-src"] == ["'self'"]


def test_every_answer_carries_the_policy(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>Parley</title>")
    (tmp_path / "app.js").write_text("console.log('parley')")
    with WebServer(CONFIG, port=0, dist=tmp_path) as server:
        for path in ("/", "/app.js", "/config.json"):
            answer = requests.get(server.url + path, timeout=10)
            assert answer.status_code == 200, path
            assert answer.headers["content-security-policy"] == content_security_policy(CONFIG)
        missing = requests.get(server.url + "/nope.js", timeout=10)
        assert missing.status_code == 404
        assert "content-security-policy" in missing.headers
