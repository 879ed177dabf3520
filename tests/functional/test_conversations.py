"""Conversations as Slack users know them: threads, edits, deletes, reactions, pins, DMs,
channel settings, and sends that race."""

from __future__ import annotations

from tests.functional.conftest import ALICE, BOB, CAROL, Api, RecordingPoster, post


def test_thread_replies_are_listed_oldest_first_and_counted_on_the_parent(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    cid = workspace["general"]
    connect("bob-1", BOB, workspace["wid"])
    parent = post(api, cid, "lunch?")
    replies = [post(api, cid, f"r{i}", user=BOB, threadTs=parent["ts"]) for i in range(3)]
    _, page1 = api("GET", f"/channels/{cid}/messages/{parent['ts']}/replies", query={"limit": "2"})
    assert [m["text"] for m in page1["messages"]] == ["r0", "r1"]
    _, page2 = api(
        "GET",
        f"/channels/{cid}/messages/{parent['ts']}/replies",
        query={"limit": "2", "cursor": page1["nextCursor"]},
    )
    assert [m["text"] for m in page2["messages"]] == ["r2"]
    assert page2["nextCursor"] is None
    _, got = api("GET", f"/channels/{cid}/messages/{parent['ts']}")
    assert got["message"]["replyCount"] == 3
    assert got["message"]["latestReplyTs"] == replies[-1]["ts"]
    assert got["message"]["threadTs"] == parent["ts"]
    delivered = poster.events("bob-1", "message")
    assert [e["message"].get("threadTs") for e in delivered] == [None] + [parent["ts"]] * 3
    status, _ = api("GET", f"/channels/{cid}/messages/{replies[0]['ts']}/replies")
    assert status == 404  # a reply is not a thread
    status, _ = api(
        "POST", f"/channels/{cid}/messages", body={"text": "x", "threadTs": replies[0]["ts"]}
    )
    assert status == 404


def test_only_the_author_edits_and_every_change_is_versioned_and_announced(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    from parley.adapters.dynamodb import messages

    cid = workspace["general"]
    connect("bob-1", BOB, workspace["wid"])
    original = post(api, cid, "helo")
    status, body = api(
        "PATCH", f"/channels/{cid}/messages/{original['ts']}", user=BOB, body={"text": "hacked"}
    )
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = api(
        "PATCH", f"/channels/{cid}/messages/{original['ts']}", body={"text": "hello"}
    )
    assert status == 200
    edited = body["message"]
    assert (edited["text"], edited["ts"]) == ("hello", original["ts"])
    assert edited["edited"]["ts"] > original["ts"]
    assert messages.get_message(cid, original["ts"]).version == 2
    assert poster.events("bob-1", "message_changed") == [
        {"type": "message_changed", "channelId": cid, "message": edited}
    ]
    for bad in ({"text": ""}, {"text": "x" * 40_001}, {}):
        status, _ = api("PATCH", f"/channels/{cid}/messages/{original['ts']}", body=bad)
        assert status in (400, 413, 422), bad
    status, _ = api("PATCH", f"/channels/{cid}/messages/1000000000.000000", body={"text": "x"})
    assert status == 404


def test_the_author_or_an_admin_deletes_and_nobody_else(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    cid = workspace["general"]
    connect("alice-1", ALICE, workspace["wid"])
    by_bob = post(api, cid, "bob's", user=BOB)
    by_alice = post(api, cid, "alice's")
    status, body = api("DELETE", f"/channels/{cid}/messages/{by_alice['ts']}", user=BOB)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert api("DELETE", f"/channels/{cid}/messages/{by_bob['ts']}")[0] == 204  # admin
    assert api("DELETE", f"/channels/{cid}/messages/{by_alice['ts']}")[0] == 204  # author
    assert api("GET", f"/channels/{cid}/messages/{by_alice['ts']}")[0] == 404
    assert api("DELETE", f"/channels/{cid}/messages/{by_alice['ts']}")[0] == 404
    assert [e["ts"] for e in poster.events("alice-1", "message_deleted")] == [
        by_bob["ts"],
        by_alice["ts"],
    ]
    _, history = api("GET", f"/channels/{cid}/messages")
    assert history["messages"] == []


def test_deleting_a_reply_uncounts_it(api: Api, workspace: dict[str, str]) -> None:
    cid = workspace["general"]
    parent = post(api, cid, "parent")
    reply = post(api, cid, "reply", threadTs=parent["ts"])
    assert api("DELETE", f"/channels/{cid}/messages/{reply['ts']}")[0] == 204
    _, got = api("GET", f"/channels/{cid}/messages/{parent['ts']}")
    assert got["message"]["replyCount"] == 0


def test_reactions_are_idempotent_counted_and_announced(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    cid = workspace["general"]
    connect("alice-1", ALICE, workspace["wid"])
    ts = post(api, cid, "ship it")["ts"]
    path = f"/channels/{cid}/messages/{ts}/reactions"
    for user in (ALICE, BOB, BOB):
        status, body = api("PUT", f"{path}/thumbsup", user=user)
        assert status == 200
    assert body["message"]["reactions"] == [{"name": "thumbsup", "count": 2, "users": [ALICE, BOB]}]
    api("PUT", f"{path}/tada", user=BOB)
    _, body = api("DELETE", f"{path}/thumbsup", user=ALICE)
    _, body = api("DELETE", f"{path}/thumbsup", user=ALICE)
    assert body["message"]["reactions"] == [
        {"name": "thumbsup", "count": 1, "users": [BOB]},
        {"name": "tada", "count": 1, "users": [BOB]},
    ]
    added = [(e["name"], e["userId"]) for e in poster.events("alice-1", "reaction_added")]
    removed = [(e["name"], e["userId"]) for e in poster.events("alice-1", "reaction_removed")]
    assert added == [("thumbsup", ALICE), ("thumbsup", BOB), ("tada", BOB)]
    assert removed == [("thumbsup", ALICE)]
    for bad in ("Thumbs", "thumbs%20up", "x" * 65, "a.b"):
        status, body = api("PUT", f"{path}/{bad}")
        assert (status, body["error"]["code"]) == (400, "invalid_request"), bad
    assert api("PUT", f"/channels/{cid}/messages/1000000000.000000/reactions/tada")[0] == 404


def test_a_reaction_racing_another_change_is_retried_and_both_kept(
    api: Api, workspace: dict[str, str], monkeypatch
) -> None:
    """Deterministic race: Bob reacts between Alice's read and Alice's write."""
    from parley.adapters.dynamodb import messages as message_store

    cid = workspace["general"]
    ts = post(api, cid, "race")["ts"]
    real_save = message_store.save_reactions
    interleaved = []

    def save_after_bob(message, reactions):  # type: ignore[no-untyped-def]  # a stand-in with the patched function's arguments
        if not interleaved:
            interleaved.append(True)
            assert api("PUT", f"/channels/{cid}/messages/{ts}/reactions/tada", user=BOB)[0] == 200
        return real_save(message, reactions)

    monkeypatch.setattr(message_store, "save_reactions", save_after_bob)
    status, body = api("PUT", f"/channels/{cid}/messages/{ts}/reactions/eyes")
    assert status == 200
    assert sorted(r["name"] for r in body["message"]["reactions"]) == ["eyes", "tada"]


def test_pins_are_idempotent_newest_first_and_announced(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    cid = workspace["general"]
    connect("alice-1", ALICE, workspace["wid"])
    first, second = post(api, cid, "one")["ts"], post(api, cid, "two")["ts"]
    for ts in (first, second, second):
        assert api("PUT", f"/channels/{cid}/pins/{ts}", user=BOB)[0] == 204
    _, pinned = api("GET", f"/channels/{cid}/pins")
    assert [m["text"] for m in pinned["messages"]] == ["two", "one"]
    assert api("DELETE", f"/channels/{cid}/pins/{first}")[0] == 204
    assert api("DELETE", f"/channels/{cid}/pins/{first}")[0] == 204
    _, pinned = api("GET", f"/channels/{cid}/pins")
    assert [m["text"] for m in pinned["messages"]] == ["two"]
    assert [e["ts"] for e in poster.events("alice-1", "pin_added")] == [first, second]
    assert [e["ts"] for e in poster.events("alice-1", "pin_removed")] == [first]
    assert api("PUT", f"/channels/{cid}/pins/1000000000.000000")[0] == 404
    assert api("GET", f"/channels/{cid}/pins", user=CAROL)[0] == 404


def test_direct_messages_are_one_channel_per_set_of_users_and_private(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid = workspace["wid"]
    _, invite = api("POST", f"/workspaces/{wid}/invites")
    api("POST", f"/invites/{invite['invite']['code']}/accept", user=CAROL)
    connect("bob-1", BOB, wid)
    status, dm = api("POST", f"/workspaces/{wid}/dms", body={"userIds": [BOB]})
    assert status == 200
    assert (dm["channel"]["type"], dm["channel"]["memberCount"]) == ("dm", 2)
    _, again = api("POST", f"/workspaces/{wid}/dms", user=BOB, body={"userIds": [ALICE, BOB]})
    assert again["channel"]["id"] == dm["channel"]["id"]
    _, group = api("POST", f"/workspaces/{wid}/dms", body={"userIds": [BOB, CAROL]})
    assert group["channel"]["type"] == "group_dm"
    assert group["channel"]["id"] != dm["channel"]["id"]
    assert api("GET", f"/channels/{dm['channel']['id']}", user=CAROL)[0] == 404
    _, carols = api("GET", f"/workspaces/{wid}/channels", user=CAROL)
    assert dm["channel"]["id"] not in [c["id"] for c in carols["channels"]]
    created = [e["channel"]["id"] for e in poster.events("bob-1", "channel_created")]
    assert created == [dm["channel"]["id"], group["channel"]["id"]]
    for bad in ({"userIds": []}, {"userIds": [ALICE]}, {"userIds": [f"u{i}" for i in range(9)]}):
        assert api("POST", f"/workspaces/{wid}/dms", body=bad)[0] in (400, 422), bad
    assert api("POST", f"/workspaces/{wid}/dms", body={"userIds": ["u-nobody"]})[0] == 404
    assert (
        api("POST", f"/channels/{dm['channel']['id']}/members", body={"userIds": [CAROL]})[0] == 403
    )


def test_the_loser_of_a_race_to_open_a_dm_gets_the_winners_channel(
    api: Api, workspace: dict[str, str], monkeypatch
) -> None:
    """Deterministic race: the winner's transaction commits between the loser's checks and
    its own transaction (moto's in-process transactions are not thread-safe, so the race is
    staged rather than run)."""
    from parley.adapters.dynamodb import channels as channel_store

    wid = workspace["wid"]
    _, winner = api("POST", f"/workspaces/{wid}/dms", user=BOB, body={"userIds": [ALICE]})
    real_open = channel_store.open_direct_message
    calls = []

    def open_after_the_winner(channel, members, key):  # type: ignore[no-untyped-def]  # a stand-in with the patched function's arguments
        calls.append(channel.channelId)
        return real_open(channel, members, key)

    monkeypatch.setattr(channel_store, "open_direct_message", open_after_the_winner)
    status, loser = api("POST", f"/workspaces/{wid}/dms", body={"userIds": [BOB]})
    assert status == 200
    assert calls
    assert calls[0] != winner["channel"]["id"]  # the loser tried its own channel
    assert loser["channel"]["id"] == winner["channel"]["id"]
    assert api("GET", f"/channels/{calls[0]}")[0] == 404  # and left nothing behind


def test_channel_topic_and_rename_keep_names_unique(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    connect("bob-1", BOB, wid)
    _, random = api("POST", f"/workspaces/{wid}/channels", body={"name": "random"})
    cid = random["channel"]["id"]
    status, body = api("PATCH", f"/channels/{cid}", body={"topic": "anything goes", "name": "fun"})
    assert status == 200
    assert (body["channel"]["name"], body["channel"]["topic"]) == ("fun", "anything goes")
    changed = poster.events("bob-1", "channel_changed")
    assert changed[-1]["channel"]["name"] == "fun"
    status, body = api("PATCH", f"/channels/{cid}", body={"name": "general"})
    assert (status, body["error"]["code"]) == (409, "conflict")
    _, created = api("POST", f"/workspaces/{wid}/channels", body={"name": "random"})
    assert created["channel"]["name"] == "random"  # the old name is free again
    assert api("PATCH", f"/channels/{cid}", body={"name": "Bad Name"})[0] == 422
    assert api("PATCH", f"/channels/{general}", user=CAROL, body={"topic": "x"})[0] == 404
    _, listed = api("GET", f"/workspaces/{wid}/channels")
    assert sorted(c["name"] for c in listed["channels"]) == ["fun", "general", "random"]


def test_sends_in_the_same_microsecond_get_unique_ordered_ts(
    api: Api, workspace: dict[str, str], monkeypatch
) -> None:
    from parley.domain import messages

    monkeypatch.setattr(messages, "now_micros", lambda: 1_800_000_000_000_000)
    cid = workspace["general"]
    sent = [post(api, cid, f"m{i}")["ts"] for i in range(5)]
    assert sent == [f"1800000000.00000{i}" for i in range(5)]
    _, history = api("GET", f"/channels/{cid}/messages")
    assert [m["text"] for m in history["messages"]] == ["m4", "m3", "m2", "m1", "m0"]


def test_a_retry_racing_the_first_send_returns_the_first_message(
    api: Api, workspace: dict[str, str], monkeypatch
) -> None:
    """Deterministic race: the retry's look-up ran before the first send committed."""
    from parley.adapters.dynamodb import messages as message_store

    cid = workspace["general"]
    first = post(api, cid, "once", clientMsgId="same-key")
    monkeypatch.setattr(message_store, "find_send", lambda *_: None)
    status, again = api(
        "POST", f"/channels/{cid}/messages", body={"text": "once", "clientMsgId": "same-key"}
    )
    assert status == 200
    assert again["message"]["ts"] == first["ts"]
    _, history = api("GET", f"/channels/{cid}/messages")
    assert len(history["messages"]) == 1
