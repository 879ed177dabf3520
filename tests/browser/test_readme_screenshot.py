"""README's picture of the client (docs/img/web.png): a workspace with a conversation in it, as
a person sees it. `make screenshot` writes it there; the browser tier writes it to
tests/browser/screenshots/ (not committed) and checks what it shows."""

from __future__ import annotations

import os
import time
from pathlib import Path

from playwright.sync_api import Browser, expect

from local.stack import Stack
from local.web import WebServer
from tests.browser.conftest import SCREENSHOTS, Person, person, sign_in

# `make screenshot` sets this to docs/img/web.png.
TARGET = Path(os.environ.get("PARLEY_README_SCREENSHOT", SCREENSHOTS / "readme.png"))
MAX_BYTES = 200 * 1024


def test_the_readme_screenshot_shows_a_conversation(
    stack: Stack, web: WebServer, browser: Browser
) -> None:
    alice, bob, carol = (person(stack, role) for role in ("alice", "bob", "carol"))
    wid = alice.call("POST", "/workspaces", {"name": "Acme"})["workspace"]["id"]
    for who in (bob, carol):
        code = alice.call("POST", f"/workspaces/{wid}/invites")["invite"]["code"]
        who.call("POST", f"/invites/{code}/accept")
    channels = {}
    for name, topic in (
        ("design", "Mockups and reviews"),
        ("releases", "What ships, and when"),
        ("random", ""),
    ):
        body = {"name": name, "topic": topic} if topic else {"name": name}
        channels[name] = alice.call("POST", f"/workspaces/{wid}/channels", body)["channel"]["id"]
        for who in (bob, carol):
            who.call("POST", f"/channels/{channels[name]}/join")
    design = channels["design"]

    def post(who: Person, cid: str, text: str, thread: str | None = None) -> str:
        body = {"text": text, "threadTs": thread} if thread else {"text": text}
        ts: str = who.call("POST", f"/channels/{cid}/messages", body)["message"]["ts"]
        time.sleep(0.2)  # within each sender's rate limit
        return ts

    mockups = post(
        carol,
        design,
        "Morning! The onboarding mockups are up: <https://example.com/mockups|mockups v3>",
    )
    post(bob, design, "Looks great. Can we keep the sidebar as narrow as it is now?")
    post(alice, design, f"Yes, and Enter still sends. <@{bob.id}> can you take the review?")
    review = post(bob, design, "On it: notes by noon, in the thread here.")
    post(carol, design, "Thanks! Rounded corners on the buttons too, please", thread=review)
    post(bob, design, "Done, see the second frame", thread=review)
    post(carol, design, f"The style guide goes to <#{channels['releases']}> after lunch 🚀")
    for who, name in ((alice, "tada"), (bob, "tada"), (bob, "heart")):
        who.call("PUT", f"/channels/{design}/messages/{mockups}/reactions/{name}")
    post(bob, channels["releases"], "v2.4 is tagged: the changelog is in the repo")
    dm = carol.call("POST", f"/workspaces/{wid}/dms", {"userIds": [alice.id]})["channel"]["id"]
    post(carol, dm, "Got a minute for the budget?")

    # Bob is online (his dot is green) and in #design; Alice looks at it, the thread open.
    sign_in(browser, web, bob).locator("#channels button.channel", has_text="design").click()
    expect(bob.ui.locator("#channel-title")).to_have_text("# design")
    expect(bob.ui.locator("body")).to_have_attribute("data-live", "true")
    page = sign_in(browser, web, alice)
    page.locator("#channels button.channel", has_text="design").click()
    expect(page.locator("#channel-title")).to_have_text("# design")
    expect(page.locator("#channel-topic")).to_have_text("Mockups and reviews")
    messages = page.locator("#message-list .message")
    expect(messages).to_have_count(5)  # the thread's replies stay in the thread
    tada = messages.first.locator('.reaction[data-reaction="tada"]')
    expect(tada.locator(".count")).to_have_text("2")
    expect(tada).to_have_attribute("aria-pressed", "true")
    expect(messages.nth(3).get_by_role("button", name="2 replies")).to_be_visible()
    expect(page.locator("#channels button.channel")).to_have_count(4)
    releases = page.locator("#channels button.channel", has_text="releases")
    expect(releases.locator(".unread-badge")).to_have_text("1")
    carol_dm = page.locator("#dms button.dm", has_text="Carol")
    expect(carol_dm.locator(".mention-badge")).to_have_text("1")
    expect(page.locator("body")).to_have_attribute("data-live", "true")
    expect(page.locator('#dms [data-presence-user="' + bob.id + '"]')).to_have_class(
        "presence active"
    )
    messages.nth(3).get_by_role("button", name="2 replies").click()
    expect(page.locator("#thread-list .message")).to_have_count(3)  # the root and its replies
    page.locator("#message").focus()
    bob.ui.get_by_label("Message", exact=True).press_sequentially("Sounds good")
    expect(page.locator("#typing")).to_have_text("Bob is typing…")
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(TARGET))
    assert TARGET.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert TARGET.stat().st_size < MAX_BYTES, TARGET.stat().st_size
    for who in (alice, bob):
        assert who.context is not None
        who.context.close()
