"""Browser fixtures: one local stack (with search) and the web client served beside it, for
the whole tier; Debian's Chromium driven by Playwright (`executable_path`, never a browser
that Playwright downloads: `make chromium` installs the system one where it is missing).

Each test gets two people of its own (`pair`): users in the pool, a workspace with a channel
they are both in, and a signed-in page each, in separate browser contexts (separate storage,
as two people on two machines). Screenshots go to tests/browser/screenshots/ (not committed).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    WebSocket,
    expect,
    sync_playwright,
)

from local.stack import DEFAULT_PASSWORD, PROJECT_ROOT, Stack
from local.web import WebServer, web_config
from tests.integration.conftest import _session_stack

CHROMIUM = Path(os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).parent / "screenshots"
_names = itertools.count()

expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The integration tier's fixture, with search (the client's search box needs it).
    yield from _session_stack(
        PROJECT_ROOT / "template.yaml",
        tmp_path_factory.mktemp("browser-stack"),
        prewarm=False,
        search=True,
    )


@pytest.fixture(scope="session")
def web(stack: Stack) -> Iterator[WebServer]:
    with WebServer(web_config(stack.describe()), port=0) as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium")
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
    )
    yield chromium
    chromium.close()


@dataclass
class Person:
    """One user: a token for the HTTP API (setting up, checking) and a signed-in page."""

    stack: Stack
    username: str
    name: str
    token: str
    id: str
    context: BrowserContext | None = None
    page: Page | None = None
    violations: list[str] = field(default_factory=list)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        reply = requests.request(
            method,
            f"{self.stack.http_url}{path}",
            json=body,
            headers={"authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert reply.ok, f"{method} {path}: {reply.status_code} {reply.text[:300]}"
        return reply.json() if reply.content else None

    @property
    def ui(self) -> Page:
        assert self.page is not None
        return self.page


def person(stack: Stack, role: str) -> Person:
    username = f"{role}{next(_names)}{uuid.uuid4().hex[:6]}"
    name = role.capitalize()
    token = stack.login(username, name=name).id_token
    user = requests.get(
        f"{stack.http_url}/me", headers={"authorization": f"Bearer {token}"}, timeout=30
    ).json()["user"]
    return Person(stack, username, name, token, user["id"])


def _log_frames(page: Page, name: str) -> None:
    """Every WebSocket frame and console line of the page, timestamped, on stderr: pytest
    shows them for a failing test only (which frame never came, or came and was ignored)."""

    def say(text: str) -> None:
        print(f"[{time.time():.3f}] {name} {text[:200]}", file=sys.stderr)

    def socket(ws: WebSocket) -> None:
        say("socket open")
        ws.on("framereceived", lambda frame: say(f"<- {frame}"))
        ws.on("framesent", lambda frame: say(f"-> {frame}"))
        ws.on("close", lambda _: say("socket closed"))

    page.on("websocket", socket)
    page.on("console", lambda message: say(f"console {message.type}: {message.text}"))


def sign_in(browser: Browser, web: WebServer, who: Person) -> Page:
    who.context = browser.new_context(
        viewport={"width": 1280, "height": 800}, accept_downloads=True
    )
    page = who.context.new_page()
    # The server sends the deployed content security policy: anything it blocks fails.
    page.on(
        "console",
        lambda message: (
            who.violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    _log_frames(page, who.name)
    page.goto(web.url)
    page.get_by_label("Username").fill(who.username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#app")).to_be_visible()
    who.page = page
    return page


@dataclass
class Pair:
    alice: Person
    bob: Person
    workspace_id: str
    channel_id: str
    channel: str

    def open_channel(self, who: Person, name: str | None = None) -> None:
        page = who.ui
        page.locator("#channels button.channel", has_text=name or self.channel).click()
        expect(page.locator("#channel-title")).to_have_text(f"# {name or self.channel}")


@pytest.fixture
def pair(stack: Stack, web: WebServer, browser: Browser) -> Iterator[Pair]:
    """Alice and Bob in a workspace of their own with a channel both are in, each signed in
    in a browser context of their own, the channel open."""
    alice, bob = person(stack, "alice"), person(stack, "bob")
    wid = alice.call("POST", "/workspaces", {"name": f"Team {uuid.uuid4().hex[:4]}"})["workspace"][
        "id"
    ]
    code = alice.call("POST", f"/workspaces/{wid}/invites")["invite"]["code"]
    bob.call("POST", f"/invites/{code}/accept")
    channel = alice.call("POST", f"/workspaces/{wid}/channels", {"name": "design"})["channel"]
    bob.call("POST", f"/channels/{channel['id']}/join")
    pair = Pair(alice, bob, wid, channel["id"], "design")
    for who in (alice, bob):
        sign_in(browser, web, who)
        pair.open_channel(who)
        expect(who.ui.locator("body")).to_have_attribute("data-live", "true")
    yield pair
    for who in (alice, bob):
        if who.context:
            who.context.close()
    for who in (alice, bob):
        assert not who.violations, f"{who.name}: {who.violations}"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
