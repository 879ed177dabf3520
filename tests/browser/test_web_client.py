"""The web client in Chromium against the local stack: two people talk, thread, react, share
a file, search, read, and ride out a dropped connection (issue #22, point 5)."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.browser.conftest import Pair, screenshot


def message_item(page, text: str):  # type: ignore[no-untyped-def]
    return page.locator("#message-list .message", has_text=text)


def test_one_types_the_other_sees_it_within_two_seconds(pair: Pair) -> None:
    alice, bob = pair.alice.ui, pair.bob.ui
    composer = alice.get_by_label("Message")
    composer.click()
    composer.press_sequentially("Hi Bob")
    expect(bob.locator("#typing")).to_have_text("Alice is typing…")
    composer.press("Shift+Enter")
    composer.press_sequentially("second line")
    started = time.monotonic()
    composer.press("Enter")
    seen = bob.locator("#message-list .message .text", has_text="second line")
    expect(seen).to_be_visible(timeout=2000)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, elapsed
    assert seen.inner_text() == "Hi Bob\nsecond line"  # Shift+Enter made a new line
    expect(composer).to_have_value("")
    expect(bob.locator("#typing")).to_have_text("")
    screenshot(bob, "live-message")
