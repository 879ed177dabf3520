"""The web client in Chromium against the local stack: two people talk, thread, react, share
a file, search, read, write directly, and ride out a dropped connection (issue #22, point 5)."""

from __future__ import annotations

import re
import time
import uuid

from playwright.sync_api import Browser, Locator, Page, expect

from local.stack import Stack
from local.web import WebServer
from tests.browser.conftest import Pair, screenshot


def message_item(page: Page, text: str) -> Locator:
    return page.locator("#message-list .message", has_text=text)


def test_one_types_the_other_sees_it_within_two_seconds(pair: Pair) -> None:
    alice, bob = pair.alice.ui, pair.bob.ui
    composer = alice.get_by_label("Message", exact=True)
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


def test_a_thread_reply_reaches_the_other_and_escape_closes_the_thread(pair: Pair) -> None:
    alice, bob = pair.alice.ui, pair.bob.ui
    alice.get_by_label("Message", exact=True).fill("Plan for Friday?")
    alice.get_by_label("Message", exact=True).press("Enter")
    root = message_item(bob, "Plan for Friday?")
    root.hover()
    root.get_by_role("button", name="Reply in thread").click()
    expect(bob.locator("#thread")).to_be_visible()
    reply = bob.get_by_label("Reply", exact=True)
    reply.fill("Pizza at noon")
    reply.press("Enter")
    expect(bob.locator("#thread-list .message", has_text="Pizza at noon")).to_be_visible()
    # Alice sees the count on the root, opens the thread, and sees the reply.
    replies = message_item(alice, "Plan for Friday?").get_by_role("button", name="1 reply")
    expect(replies).to_be_visible()
    replies.click()
    expect(alice.locator("#thread-list .message", has_text="Pizza at noon")).to_be_visible()
    screenshot(alice, "thread")
    # The reply stays out of the channel's own list.
    expect(message_item(alice, "Pizza at noon")).to_have_count(0)
    alice.keyboard.press("Escape")
    expect(alice.locator("#thread")).to_be_hidden()


def test_a_reaction_shows_live_for_the_other(pair: Pair) -> None:
    alice, bob = pair.alice.ui, pair.bob.ui
    alice.get_by_label("Message", exact=True).fill("Shipped the release")
    alice.get_by_label("Message", exact=True).press("Enter")
    item = message_item(bob, "Shipped the release")
    item.hover()
    item.get_by_role("button", name="React +1").click()
    mine = item.locator('.reaction[data-reaction="+1"]')
    expect(mine).to_have_attribute("aria-pressed", "true")
    theirs = message_item(alice, "Shipped the release").locator('.reaction[data-reaction="+1"]')
    expect(theirs.locator(".count")).to_have_text("1")
    expect(theirs).to_have_attribute("aria-pressed", "false")
    # Alice adds hers: 2 on both sides; Bob takes his back: 1.
    theirs.click()
    expect(mine.locator(".count")).to_have_text("2")
    mine.click()
    expect(theirs.locator(".count")).to_have_text("1")
    screenshot(alice, "reaction")


def test_an_upload_shows_its_progress_and_the_other_downloads_it(pair: Pair) -> None:
    alice, bob = pair.alice.ui, pair.bob.ui
    content = bytes(range(256)) * 8192  # 2 MiB
    # The progress bar's every value, as the page's upload reports them.
    alice.evaluate(
        """() => {
          window.progressSeen = [];
          const bar = document.getElementById("upload-progress");
          const set = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, "value").set;
          Object.defineProperty(bar, "value", {
            get() { return Number(bar.getAttribute("value")); },
            set(v) { window.progressSeen.push(v); set.call(bar, v); bar.setAttribute("value", v); },
          });
        }"""
    )
    alice.locator("#file").set_input_files(
        {"name": "report.bin", "mimeType": "application/octet-stream", "buffer": content}
    )
    expect(alice.locator("#upload")).to_be_visible()
    expect(alice.locator("#upload-name")).to_have_text("report.bin")
    expect(alice.locator("#upload-progress")).to_have_attribute("value", "1")
    screenshot(alice, "upload")
    seen = alice.evaluate("window.progressSeen")
    assert seen[0] == 0, seen
    assert seen[-1] == 1, seen
    assert seen == sorted(seen), seen
    item = message_item(bob, "report.bin")
    expect(item.locator(".file-name")).to_have_text("📄 report.bin")
    with bob.expect_download() as download:
        item.get_by_role("button", name="Download").click()
    path = download.value.path()
    assert download.value.suggested_filename == "report.bin"
    assert path.read_bytes() == content


def test_search_finds_the_message_with_its_words_highlighted(pair: Pair) -> None:
    alice, bob = pair.alice.ui, pair.bob.ui
    word = f"zebracorn{uuid.uuid4().hex[:6]}"
    alice.get_by_label("Message", exact=True).fill(f"The {word} budget is approved")
    alice.get_by_label("Message", exact=True).press("Enter")
    expect(message_item(bob, word)).to_be_visible()
    box = bob.get_by_label("Search", exact=True)
    box.fill(f"{word} in:#{pair.channel}")
    results = bob.locator("#result-list .result")
    deadline = time.monotonic() + 20  # indexing is asynchronous (stream, queue, indexer)
    while True:
        box.press("Enter")
        expect(bob.locator("#results")).to_be_visible()
        if results.count() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(results).to_have_count(1)
    expect(results.first.locator("mark")).to_have_text(word)
    expect(bob.locator("#results-title")).to_contain_text("1 result")
    screenshot(bob, "search")
    results.first.click()
    expect(bob.locator("#results")).to_be_hidden()
    expect(message_item(bob, word)).to_be_visible()


def test_an_unread_badge_appears_and_clears_when_the_channel_is_opened(pair: Pair) -> None:
    alice, bob = pair.alice, pair.bob
    alice.ui.get_by_label("Message", exact=True).fill("Anyone around?")
    alice.ui.get_by_label("Message", exact=True).press("Enter")
    expect(message_item(bob.ui, "Anyone around?")).to_be_visible()
    # Bob moves to general; Alice posts twice in design, once mentioning him.
    pair.open_channel(bob, "general")
    channel_button = bob.ui.locator("#channels button.channel", has_text=pair.channel)
    composer = alice.ui.get_by_label("Message", exact=True)
    composer.fill("Standup moved to 10")
    composer.press("Enter")
    expect(channel_button.locator(".unread-badge")).to_have_text("1")
    expect(channel_button).to_have_class(re.compile("has-unread"))
    composer.fill("@bob can you lead it?")
    composer.press("Enter")
    expect(channel_button.locator(".mention-badge")).to_have_text("1")
    screenshot(bob.ui, "unread")
    channel_button.click()
    expect(channel_button.locator(".badge")).to_have_count(0)
    # The mention is highlighted for Bob and the marker moved on the server.
    expect(message_item(bob.ui, "can you lead it?")).to_have_class(re.compile("mentioned"))
    expect(message_item(bob.ui, "can you lead it?").locator(".mention-me")).to_have_text("@Bob")
    deadline = time.monotonic() + 5
    while True:
        unread = bob.call("GET", f"/workspaces/{pair.workspace_id}/unreads")["channels"]
        counts = {u["channelId"]: u["unreadCount"] for u in unread}
        if counts.get(pair.channel_id, 0) == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert counts.get(pair.channel_id, 0) == 0, unread
    bob.ui.reload()
    expect(bob.ui.locator("#app")).to_be_visible()
    expect(bob.ui.locator("#channels button.channel", has_text=pair.channel)).to_be_visible()
    expect(bob.ui.locator("#channels .badge")).to_have_count(0)


def test_a_direct_message_badges_the_dm_live_and_clears_when_opened(pair: Pair) -> None:
    alice, bob = pair.alice, pair.bob
    # Alice opens a DM with Bob from her sidebar: the DM channel is made on that click (and
    # its empty history read before she types).
    with alice.ui.expect_response(lambda r: "/messages?" in r.url and r.request.method == "GET"):
        alice.ui.locator("#dms button.dm", has_text="Bob").click()
    expect(alice.ui.locator("#channel-title")).to_have_text("Bob")
    composer = alice.ui.get_by_label("Message", exact=True)
    expect(composer).to_have_attribute("placeholder", "Message Bob")
    composer.fill("Got a minute for the budget?")
    composer.press("Enter")
    expect(message_item(alice.ui, "Got a minute for the budget?")).to_be_visible()
    # Bob, still in #design, has never seen this DM: his Alice entry gets a mention badge
    # (a DM counts as a mention), live.
    dm_button = bob.ui.locator("#dms button.dm", has_text="Alice")
    expect(dm_button.locator(".mention-badge")).to_have_text("1")
    expect(dm_button).to_have_class(re.compile("has-unread"))
    expect(bob.ui.locator("#channel-title")).to_have_text(f"# {pair.channel}")
    expect(message_item(bob.ui, "Got a minute for the budget?")).to_have_count(0)
    dm_button.click()
    expect(bob.ui.locator("#channel-title")).to_have_text("Alice")
    expect(dm_button.locator(".badge")).to_have_count(0)
    expect(dm_button).not_to_have_class(re.compile("has-unread"))
    expect(dm_button).to_have_attribute("aria-current", "page")
    expect(message_item(bob.ui, "Got a minute for the budget?")).to_be_visible()
    # Open, the next one arrives live without a badge, and Bob's answer reaches Alice.
    composer.fill("Ten minutes, at the coffee machine")
    composer.press("Enter")
    expect(message_item(bob.ui, "at the coffee machine")).to_be_visible()
    expect(dm_button.locator(".badge")).to_have_count(0)
    bob.ui.get_by_label("Message", exact=True).fill("On my way")
    bob.ui.get_by_label("Message", exact=True).press("Enter")
    expect(message_item(alice.ui, "On my way")).to_be_visible()
    screenshot(bob.ui, "direct-message")
    # The marker moved on the server: after a reload no badge comes back.
    dm_id = dm_button.get_attribute("data-channel-id")
    assert dm_id
    deadline = time.monotonic() + 5
    while True:
        unread = bob.call("GET", f"/workspaces/{pair.workspace_id}/unreads")["channels"]
        counts = {u["channelId"]: u["unreadCount"] for u in unread}
        if counts.get(dm_id, 0) == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert counts.get(dm_id, 0) == 0, unread
    bob.ui.reload()
    expect(bob.ui.locator("#dms button.dm", has_text="Alice")).to_be_visible()
    expect(bob.ui.locator("#dms .badge")).to_have_count(0)


def test_a_dropped_socket_reconnects_and_shows_what_was_missed(pair: Pair, stack: Stack) -> None:
    bob = pair.bob.ui
    assert stack.drop_websockets() >= 2
    expect(bob.locator("#connection")).to_contain_text("reconnecting")
    # Sent while Bob is away: no event reaches him; the catch-up from history shows it.
    pair.alice.call(
        "POST", f"/channels/{pair.channel_id}/messages", {"text": "Sent while you were away"}
    )
    screenshot(bob, "reconnecting")
    expect(bob.locator("#connection")).to_be_hidden(timeout=15_000)
    expect(bob.locator("body")).to_have_attribute("data-live", "true")
    expect(message_item(bob, "Sent while you were away")).to_be_visible()
    # Live again: the next message arrives as an event.
    pair.alice.ui.get_by_label("Message", exact=True).fill("And this one live")
    pair.alice.ui.get_by_label("Message", exact=True).press("Enter")
    expect(message_item(bob, "And this one live")).to_be_visible(timeout=2000)


def test_edits_and_deletes_show_live(pair: Pair) -> None:
    alice, bob = pair.alice.ui, pair.bob.ui
    alice.get_by_label("Message", exact=True).fill("Meet at 3")
    alice.get_by_label("Message", exact=True).press("Enter")
    expect(message_item(bob, "Meet at 3")).to_be_visible()
    alice.once("dialog", lambda dialog: dialog.accept("Meet at 4"))
    item = message_item(alice, "Meet at 3")
    item.hover()
    item.get_by_role("button", name="Edit").click()
    edited = message_item(bob, "Meet at 4")
    expect(edited.locator(".edited")).to_have_text("(edited)")
    alice.once("dialog", lambda dialog: dialog.accept())
    item = message_item(alice, "Meet at 4")
    item.hover()
    item.get_by_role("button", name="Delete").click()
    expect(message_item(bob, "Meet at 4")).to_have_count(0)


def test_history_pages_back_as_the_user_scrolls_up(pair: Pair) -> None:
    alice, bob = pair.alice, pair.bob
    channel = alice.call("POST", f"/workspaces/{pair.workspace_id}/channels", {"name": "log"})
    cid = channel["channel"]["id"]
    bob.call("POST", f"/channels/{cid}/join")
    # Two posters in turn, a message each 0.1 s: under the channel's rate limit.
    for n in range(120):
        poster = (alice, bob)[n % 2]
        poster.call("POST", f"/channels/{cid}/messages", {"text": f"entry {n:03d}"})
        time.sleep(0.1)
    bob.ui.reload()
    pair.open_channel(bob, "log")
    expect(message_item(bob.ui, "entry 119")).to_be_visible()
    expect(message_item(bob.ui, "entry 000")).to_have_count(0)
    box = bob.ui.locator("#messages")
    for _ in range(10):
        box.evaluate("box => { box.scrollTop = 0; }")
        if message_item(bob.ui, "entry 000").count():
            break
        time.sleep(0.3)
    expect(message_item(bob.ui, "entry 000")).to_have_count(1)
    expect(bob.ui.locator("#message-list .message")).to_have_count(120)
    expect(bob.ui.locator("#history-status")).to_contain_text("very beginning")


def test_errors_read_clearly(pair: Pair) -> None:
    alice = pair.alice.ui
    composer = alice.get_by_label("Message", exact=True)
    composer.fill("x" * 40_001)
    composer.press("Enter")
    expect(alice.get_by_role("alert")).to_contain_text("too large")
    expect(composer).to_have_value("x" * 40_001)  # nothing typed is lost
    # A long message that fits goes over HTTP (beyond a WebSocket frame's 32 KB).
    composer.fill("y" * 39_000)
    composer.press("Enter")
    expect(alice.locator("#message-list .message .text", has_text="y" * 100)).to_have_count(1)
    # Signed out: the session's token is refused; the client says so and shows the sign-in.
    alice.get_by_role("button", name="Sign out").click()
    expect(alice.get_by_label("Username")).to_be_visible()


def test_a_new_person_signs_up_and_starts_a_workspace(
    stack: Stack, web: WebServer, browser: Browser
) -> None:
    page = browser.new_context().new_page()
    page.goto(web.url)
    page.get_by_role("button", name="Create an account").click()
    name = f"carol{uuid.uuid4().hex[:6]}"
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("Parley-demo-1")
    page.get_by_label("Email").fill(f"{name}@example.com")
    page.get_by_label("Name", exact=True).fill("Carol")
    page.get_by_role("button", name="Create account").click()
    page.get_by_label("Confirmation code").fill("123456")
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Workspace name").fill("Carol's team")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.locator("#channel-title")).to_have_text("# general")
    expect(page.locator("#me-name")).to_have_text("Carol")
    page.context.close()


def test_a_wrong_password_is_said_plainly(web: WebServer, browser: Browser, stack: Stack) -> None:
    page = browser.new_context().new_page()
    page.goto(web.url)
    page.get_by_label("Username").fill("nobody-here")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    page.context.close()
