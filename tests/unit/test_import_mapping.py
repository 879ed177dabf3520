"""Slack's users, conversations and messages mapped to Parley's (parley.imports.mapping):
pure functions, and the sample export read and mapped end to end in memory."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from parley.ids import new_id
from parley.imports.mapping import (
    ChannelPlan,
    ExistingChannel,
    ImportedFile,
    InvalidMessage,
    bot_user_id,
    channel_name,
    derived_id,
    file_note,
    human_size,
    imported_channel_id,
    map_message,
    placeholder_user_id,
    plan_channels,
    plan_users,
    rewrite_text,
)
from parley.imports.slack_export import Conversation, SlackExport, SlackUser, team_of
from parley.limits import MAX_TEXT_CHARS
from tests.slack_exports import (
    ALICE,
    ALICE_SHARED,
    APP_BOT,
    APP_BOT_USER,
    BOB,
    CAROL,
    DAVE,
    GENERAL,
    LEGACY_BOT,
    RANDOM,
    ROOT_TS,
    SECRET,
    sample_export,
)

WS = "W0WORKSPACE"
USERS = {ALICE: "uuid-alice", BOB: "uuid-bob", APP_BOT_USER: "B0PARLEYBT", APP_BOT: "B0PARLEYBT"}
CHANNELS = {GENERAL: "C0PGENERAL", RANDOM: "C0PRANDOM0"}
TS = "1709251200.000100"


def mapped(**fields: Any) -> Any:
    return map_message(
        {"type": "message", "ts": TS, "user": ALICE, **fields}, users=USERS, channels=CHANNELS
    )


def slack_user(user_id: str, *, email: str | None = None, **fields: Any) -> SlackUser:
    defaults: dict[str, Any] = {
        "name": user_id.lower(),
        "real_name": user_id.title(),
        "deleted": False,
        "is_bot": False,
        "bot_id": None,
        "app_id": None,
        "team_id": "T1",
    }
    return SlackUser(id=user_id, email=email, **{**defaults, **fields})


def conversation(
    conversation_id: str, name: str | None, kind: Any = "public", members: tuple[str, ...] = ()
) -> Conversation:
    return Conversation(conversation_id, kind, name, members, "", "", None, None, False, None)


# --- text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rewritten"),
    [
        ("hi <@U0ALICE01>", "hi <@uuid-alice>"),
        ("hi <@U0BOB0002|bob>!", "hi <@uuid-bob>!"),
        ("see <#C0GENERAL>, <#C0RANDOM0|random>", "see <#C0PGENERAL>, <#C0PRANDOM0>"),
        ("who is <@U0NOBODY9|ghost> in <#C0NOWHERE>", "who is <@U0NOBODY9|ghost> in <#C0NOWHERE>"),
        (
            "<!here> <!channel> <!everyone> <!subteam^S1|@devs>",
            "<!here> <!channel> <!everyone> <!subteam^S1|@devs>",
        ),
        (
            "<https://example.com/a?b=1&amp;c=2|the docs> <mailto:a@b.c>",
            "<https://example.com/a?b=1&amp;c=2|the docs> <mailto:a@b.c>",
        ),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2, &amp;lt; stays &lt;", "1 < 2 && 3 > 2, &lt; stays <"),
        ("&lt;@U0ALICE01&gt; typed", "<@U0ALICE01> typed"),  # unescaped text is not rewritten
        ("héllo 👋 日本 <@U0ALICE01>", "héllo 👋 日本 <@uuid-alice>"),
        ("", ""),
    ],
)
def test_mentions_and_channel_links_take_parley_ids(text: str, rewritten: str) -> None:
    assert rewrite_text(text, users=USERS, channels=CHANNELS) == rewritten


def test_a_file_becomes_a_note_of_its_name_type_and_size() -> None:
    assert file_note(ImportedFile("plan.pdf", "pdf", 123_456)) == "📎 plan.pdf (pdf, 120.6 KB)"
    assert file_note(ImportedFile("a.bin", None, 12)) == "📎 a.bin (12 B)"
    assert file_note(ImportedFile("notes", None, None)) == "📎 notes"
    assert [human_size(n) for n in (0, 1023, 1024, 5 * 1024**2, 3 * 1024**3)] == [
        "0 B",
        "1023 B",
        "1.0 KB",
        "5.0 MB",
        "3.0 GB",
    ]


# --- messages --------------------------------------------------------------------------------


def test_a_plain_message_keeps_its_ts_author_and_rewritten_text() -> None:
    message = mapped(text="hi <@U0BOB0002>", client_msg_id="x", reply_count=3)
    assert message is not None
    assert (message.ts, message.thread_ts, message.user) == (TS, None, ALICE)
    assert message.text == "hi <@uuid-bob>"
    assert (message.subtype, message.reactions, message.edited_ts, message.files) == (
        None,
        (),
        None,
        (),
    )
    assert not message.by_bot


def test_a_thread_root_has_no_thread_ts_and_a_reply_keeps_its_roots() -> None:
    root = mapped(
        text="root", thread_ts=TS, reply_count=9, replies=[{"user": BOB, "ts": "1709251300.000000"}]
    )
    reply = mapped(ts="1709251300.000000", text="reply", thread_ts=TS, parent_user_id=ALICE)
    assert root is not None
    assert reply is not None
    assert root.thread_ts is None
    assert reply.thread_ts == TS


def test_a_broadcast_reply_keeps_its_subtype_and_its_thread() -> None:
    message = mapped(ts="1709251300.000000", subtype="thread_broadcast", text="all", thread_ts=TS)
    assert message is not None
    assert (message.subtype, message.thread_ts) == ("thread_broadcast", TS)


def test_a_legacy_bot_message_is_by_its_bot_id_with_its_attachments_text() -> None:
    message = map_message(
        {
            "type": "message",
            "subtype": "bot_message",
            "ts": TS,
            "bot_id": LEGACY_BOT,
            "username": "ci",
            "text": "",
            "attachments": [{"fallback": "Build 42 passed"}, {"text": "details &amp; logs"}],
        },
        users=USERS,
        channels=CHANNELS,
    )
    assert message is not None
    assert (message.user, message.subtype, message.bot_id, message.bot_name) == (
        LEGACY_BOT,
        "bot_message",
        LEGACY_BOT,
        "ci",
    )
    assert message.by_bot
    assert message.text == "Build 42 passed\ndetails & logs"


def test_an_apps_post_is_by_its_bot_user_or_its_bot_id() -> None:
    known = mapped(user=APP_BOT_USER, bot_id=APP_BOT, text="Deployed")
    assert known is not None
    assert known.user == APP_BOT_USER
    unknown_user = map_message(
        {
            "ts": TS,
            "user": "U0UNLISTED",
            "bot_id": APP_BOT,
            "text": "x",
            "bot_profile": {"name": "deploybot"},
        },
        users=USERS,
        channels=CHANNELS,
    )
    assert unknown_user is not None
    assert (unknown_user.user, unknown_user.bot_name) == (APP_BOT, "deploybot")
    unknown_app = map_message(
        {"ts": TS, "user": "U0UNLISTED", "bot_id": "B0UNLISTED", "text": "x"},
        users=USERS,
        channels=CHANNELS,
    )
    assert unknown_app is not None
    assert (unknown_app.user, unknown_app.by_bot) == ("B0UNLISTED", True)


@pytest.mark.parametrize(
    "subtype",
    [
        "channel_join",
        "channel_leave",
        "group_join",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "pinned_item",
        "channel_archive",
        "bot_add",
    ],
)
def test_notices_of_joins_leaves_and_changes_are_no_messages(subtype: str) -> None:
    assert mapped(subtype=subtype, text="<@U0ALICE01> has joined the channel") is None


@pytest.mark.parametrize(
    "subtype", ["me_message", "tombstone", "huddle_thread", "a_subtype_slack_adds_later"]
)
def test_other_subtypes_become_ordinary_messages(subtype: str) -> None:
    message = mapped(subtype=subtype, text="something happened")
    assert message is not None
    assert (message.subtype, message.text) == (None, "something happened")


def test_a_file_share_is_a_message_with_a_note_per_file() -> None:
    message = mapped(
        subtype="file_share",
        text="The plan",
        files=[
            {"id": "F1", "name": "plan.pdf", "filetype": "pdf", "size": 2048},
            {"id": "F2", "title": "Whiteboard", "mimetype": "image/png", "size": 10},
            {"id": "F3", "mode": "tombstone"},
            {"id": "F4", "mode": "hidden_by_limit"},
            {"id": "F5", "name": "gone.txt", "file_access": "file_not_found"},
        ],
    )
    assert message is not None
    assert message.subtype is None
    assert message.text == "The plan\n📎 plan.pdf (pdf, 2.0 KB)\n📎 Whiteboard (image/png, 10 B)"
    assert message.files == (
        ImportedFile("plan.pdf", "pdf", 2048),
        ImportedFile("Whiteboard", "image/png", 10),
    )


def test_a_legacy_file_share_with_one_file_and_no_text() -> None:
    message = map_message(
        {
            "ts": TS,
            "subtype": "file_share",
            "text": "",
            "file": {"name": "a.txt", "pretty_type": "Plain Text", "size": 5, "user": BOB},
        },
        users=USERS,
        channels=CHANNELS,
    )
    assert message is not None
    assert (message.user, message.text) == (BOB, "📎 a.txt (Plain Text, 5 B)")


def test_a_legacy_file_comment_is_by_its_commenter() -> None:
    message = mapped(
        subtype="file_comment",
        text="commented on a file",
        comment={"user": BOB, "comment": "nice <@U0ALICE01>"},
    )
    assert message is not None
    assert (message.user, message.text) == (BOB, "nice <@uuid-alice>")


def test_reactions_keep_their_users_merged_and_deduplicated() -> None:
    message = mapped(
        text="x",
        reactions=[
            {"name": "thumbsup", "users": [BOB, CAROL], "count": 2},
            {"name": "+1::skin-tone-2", "users": [BOB], "count": 1},
            {"name": "thumbsup", "users": [CAROL, ALICE], "count": 2},
            {"name": "Not A Name!", "users": [BOB], "count": 1},
            {"name": "empty", "users": [], "count": 3},
            {"name": "wave", "users": ["../bad", 7], "count": 2},
        ],
    )
    assert message is not None
    assert message.reactions == (("thumbsup", (BOB, CAROL, ALICE)), ("+1::skin-tone-2", (BOB,)))


def test_at_most_parleys_count_of_reaction_names_are_kept() -> None:
    reactions = [{"name": f"emoji{n}", "users": [BOB], "count": 1} for n in range(60)]
    message = mapped(text="x", reactions=reactions)
    assert message is not None
    assert len(message.reactions) == 50


def test_an_edit_keeps_its_ts() -> None:
    message = mapped(text="x", edited={"user": ALICE, "ts": "1709251260.000000"})
    assert message is not None
    assert message.edited_ts == "1709251260.000000"
    odd = mapped(text="x", edited={"ts": "yesterday"})
    assert odd is not None
    assert odd.edited_ts is None


def test_a_text_past_parleys_limit_is_cut_keeping_its_file_notes() -> None:
    message = mapped(text="a" * 50_000, files=[{"name": "f.txt", "size": 1}])
    assert message is not None
    assert len(message.text) == MAX_TEXT_CHARS
    assert message.text.endswith("…\n📎 f.txt (1 B)")


def test_lone_surrogates_in_text_become_replacement_characters() -> None:
    message = mapped(text="a\ud800b")
    assert message is not None
    assert message.text == "a\ufffdb"
    message.text.encode()


def test_a_message_with_nothing_to_show_is_none_unless_it_roots_a_thread() -> None:
    assert mapped(text="  ", blocks=[{"type": "divider"}]) is None
    root = mapped(text="", thread_ts=TS)
    assert root is not None
    assert root.text == ""


def test_what_is_not_a_message_is_none() -> None:
    assert map_message({"type": "channel_marked", "ts": TS}, users={}, channels={}) is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("a string", "it is not a JSON object"),
        ({"type": "message", "user": ALICE, "text": "x"}, "it has no ts"),
        (
            {"ts": "1709251200", "user": ALICE, "text": "x"},
            "its ts '1709251200' is not a Slack timestamp",
        ),
        (
            {"ts": TS, "user": ALICE, "text": "x", "thread_ts": 5},
            "its thread_ts '5' is not a Slack timestamp",
        ),
        ({"ts": TS, "text": "x"}, f"the message {TS} names no author"),
        ({"ts": TS, "user": "../../etc", "text": "x"}, f"the message {TS} names no author"),
    ],
)
def test_a_message_that_cannot_be_imported_says_why(raw: Any, reason: str) -> None:
    with pytest.raises(InvalidMessage) as invalid:
        map_message(raw, users=USERS, channels=CHANNELS)
    assert invalid.value.reason == reason


# --- ids -------------------------------------------------------------------------------------


def test_derived_ids_look_like_parleys_and_depend_on_every_part() -> None:
    shape = re.compile(r"^[A-Z][0-9A-HJKMNP-TV-Z]{10}$")  # new_id's: no I, L, O, U
    ids = {
        placeholder_user_id(WS, "T1", ALICE),
        placeholder_user_id(WS, "T1", BOB),
        placeholder_user_id("W0OTHER", "T1", ALICE),
        placeholder_user_id(WS, "T2", ALICE),
        bot_user_id(WS, "T1", ALICE),
        imported_channel_id(WS, "T1", GENERAL, "public"),
        imported_channel_id(WS, "T1", GENERAL, "dm"),
    }
    assert len(ids) == 7
    assert all(shape.match(i) for i in ids | {new_id("U")})
    assert placeholder_user_id(WS, "T1", ALICE) == placeholder_user_id(WS, "T1", ALICE)
    assert placeholder_user_id(WS, "T1", ALICE)[0] == "U"
    assert bot_user_id(WS, "T1", "B1")[0] == "B"
    assert imported_channel_id(WS, "T1", "C1", "private")[0] == "C"
    assert imported_channel_id(WS, "T1", "G1", "group_dm")[0] == "D"
    assert derived_id("X", "a", "bc") != derived_id("X", "ab", "c")


# --- users -----------------------------------------------------------------------------------


def test_users_are_matched_by_email_in_any_case_or_become_placeholders() -> None:
    users = [
        slack_user(ALICE, email="Alice@Example.com "),
        slack_user(BOB, email="bob@example.com"),
        slack_user(CAROL),
        slack_user(DAVE, email="dave@example.com", deleted=True),
    ]
    plan = plan_users(
        users, workspace_id=WS, team_id="T1", existing_by_email={"ALICE@example.com": "uuid-alice"}
    )
    assert plan.ids[ALICE] == "uuid-alice"
    assert plan.ids[BOB] == placeholder_user_id(WS, "T1", BOB)
    assert plan.ids[CAROL] == placeholder_user_id(WS, "T1", CAROL)
    kinds = {p.slack_ids: (p.kind, p.email, p.deleted) for p in plan.plans.values()}
    assert kinds == {
        (ALICE,): ("existing", "alice@example.com", False),
        (BOB,): ("placeholder", "bob@example.com", False),
        (CAROL,): ("placeholder", None, False),
        (DAVE,): ("placeholder", "dave@example.com", True),
    }


def test_two_accounts_of_one_email_are_one_person_whatever_their_order() -> None:
    accounts = [
        slack_user(ALICE_SHARED, email="alice@example.com", deleted=True),
        slack_user(ALICE, email="ALICE@example.com", real_name="Alice L"),
    ]
    for order in (accounts, accounts[::-1]):
        plan = plan_users(order, workspace_id=WS, team_id="T1", existing_by_email={})
        expected = placeholder_user_id(WS, "T1", ALICE)  # the smaller Slack id names it
        assert plan.ids == {ALICE: expected, ALICE_SHARED: expected}
        (person,) = plan.plans.values()
        assert (person.name, person.deleted) == ("Alice L", False)


def test_a_bot_user_is_one_parley_bot_for_its_user_id_and_its_bot_id() -> None:
    users = [
        slack_user(
            APP_BOT_USER,
            is_bot=True,
            bot_id=APP_BOT,
            real_name="Deploy Bot",
            email="bot@example.com",
        ),
        slack_user("USLACKBOT", is_bot=True, real_name="Slackbot"),
    ]
    plan = plan_users(
        users, workspace_id=WS, team_id="T1", existing_by_email={"bot@example.com": "uuid-x"}
    )
    bot = bot_user_id(WS, "T1", APP_BOT)
    assert plan.ids == {
        APP_BOT_USER: bot,
        APP_BOT: bot,
        "USLACKBOT": bot_user_id(WS, "T1", "USLACKBOT"),
    }
    assert plan.plans[bot].kind == "bot"
    assert plan.plans[bot].slack_ids == (APP_BOT_USER, APP_BOT)
    assert plan.plans[bot].email is None


def test_an_author_users_json_lacks_resolves_the_same_in_every_chunk() -> None:
    plan = plan_users([slack_user(ALICE)], workspace_id=WS, team_id="T1", existing_by_email={})
    assert plan.resolve(ALICE) is plan.plans[plan.ids[ALICE]]
    ghost = plan.resolve("U0GHOST01")
    assert (ghost.kind, ghost.parley_id) == (
        "placeholder",
        placeholder_user_id(WS, "T1", "U0GHOST01"),
    )
    legacy = plan.resolve(LEGACY_BOT, bot=True, name="ci")
    assert (legacy.kind, legacy.parley_id, legacy.name) == (
        "bot",
        bot_user_id(WS, "T1", LEGACY_BOT),
        "ci",
    )
    assert plan.resolve("U0GHOST01") == ghost


# --- channels --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slack_name", "name"),
    [
        ("general", "general"),
        ("Dev_Ops-2024", "dev_ops-2024"),
        ("café talk!", "caf-talk"),
        ("\uff57\uff49\uff44\uff45", "wide"),  # NFKC folds full-width letters
        ("日本語", "c0nihongo"),
        ("-x-", "x"),
        ("a" * 100, "a" * 80),
    ],
)
def test_slack_names_take_parleys_form(slack_name: str, name: str) -> None:
    assert channel_name(slack_name, "C0NIHONGO") == name


def test_channels_without_a_clash_are_new_channels_of_derived_ids() -> None:
    plans = plan_channels(
        [conversation(GENERAL, "general"), conversation(SECRET, "secret", "private")],
        workspace_id=WS,
        team_id="T1",
        existing=[],
    )
    assert plans == [
        ChannelPlan(
            GENERAL, imported_channel_id(WS, "T1", GENERAL, "public"), "public", "general", False
        ),
        ChannelPlan(
            SECRET, imported_channel_id(WS, "T1", SECRET, "private"), "private", "secret", False
        ),
    ]


def test_a_public_channel_merges_into_a_public_one_of_its_name_and_nothing_else_does() -> None:
    existing = [
        ExistingChannel("C0PGENERAL", "general", "public"),
        ExistingChannel("C0PSECRET0", "secret", "private"),
        ExistingChannel("C0PTEAM000", "team", "private"),
        ExistingChannel("C0POPS0000", "ops", "public"),
        ExistingChannel("C0POPSIMP0", "ops-imported", "public"),
    ]
    plans = plan_channels(
        [
            conversation(GENERAL, "general"),
            conversation(SECRET, "secret", "private"),
            conversation("C0TEAM000", "team"),
            conversation("G0OPS0000", "ops", "private"),
            conversation("C0GENERAL2", "General"),  # a second Slack channel of that name
        ],
        workspace_id=WS,
        team_id="T1",
        existing=existing,
    )
    assert [(p.parley_id, p.name, p.merged) for p in plans] == [
        ("C0PGENERAL", "general", True),
        (imported_channel_id(WS, "T1", SECRET, "private"), "secret-imported", False),
        (imported_channel_id(WS, "T1", "C0TEAM000", "public"), "team-imported", False),
        (imported_channel_id(WS, "T1", "G0OPS0000", "private"), "ops-imported-2", False),
        (imported_channel_id(WS, "T1", "C0GENERAL2", "public"), "general-imported", False),
    ]


def test_a_rerun_finds_the_channels_its_first_run_created_even_renamed() -> None:
    conversations = [
        conversation(GENERAL, "general"),
        conversation(SECRET, "secret", "private"),
        conversation(RANDOM, "random"),
    ]
    before = [
        ExistingChannel("C0PGENERAL", "general", "public"),
        ExistingChannel("C0PSECRET0", "secret", "private"),
    ]
    first = plan_channels(conversations, workspace_id=WS, team_id="T1", existing=before)
    created = [ExistingChannel(p.parley_id, p.name or "", p.kind) for p in first if not p.merged]
    renamed = [
        ExistingChannel(c.channel_id, "fun" if c.name == "random" else c.name, c.kind)
        for c in created
    ]
    second = plan_channels(conversations, workspace_id=WS, team_id="T1", existing=before + renamed)
    assert [p.parley_id for p in second] == [p.parley_id for p in first]
    assert [p.name for p in second] == ["general", "secret-imported", "fun"]


def test_an_imported_suffix_fits_parleys_80_characters() -> None:
    long = "x" * 80
    (plan,) = plan_channels(
        [conversation("C1", long, "private")],
        workspace_id=WS,
        team_id="T1",
        existing=[ExistingChannel("C9", long, "public")],
    )
    assert plan.name == "x" * 71 + "-imported"


def test_dms_have_no_name_and_an_oversized_group_dm_becomes_a_private_channel() -> None:
    nine = tuple(f"U{n}" for n in range(9))
    plans = plan_channels(
        [
            conversation("D1", None, "dm", ("U1", "U2")),
            conversation("G1", "mpdm-a--b--c-1", "group_dm", nine),
            conversation("G2", "mpdm-many-1", "group_dm", (*nine, "U9")),
        ],
        workspace_id=WS,
        team_id="T1",
        existing=[ExistingChannel("D0X", "mpdm-a--b--c-1", "group_dm")],
    )
    assert [(p.kind, p.name, p.parley_id[0]) for p in plans] == [
        ("dm", None, "D"),
        ("group_dm", None, "D"),
        ("private", "mpdm-many-1", "C"),
    ]


# --- the sample export, read and mapped ------------------------------------------------------


def test_the_sample_export_maps_every_message_it_should() -> None:
    export = SlackExport(io.BytesIO(sample_export().build()))
    users = export.users()
    team = team_of(users)
    user_map = plan_users(
        users, workspace_id=WS, team_id=team, existing_by_email={"bob@EXAMPLE.com": "uuid-bob"}
    )
    plans = plan_channels(
        export.conversations(),
        workspace_id=WS,
        team_id=team,
        existing=[ExistingChannel("C0PGENERAL", "general", "public")],
    )
    channels = {p.slack_id: p.parley_id for p in plans}
    messages = {
        chunk.id: [
            m
            for m in (
                map_message(raw, users=user_map.ids, channels=channels)
                for raw in export.messages(chunk)
            )
            if m
        ]
        for chunk in export.chunks()
    }
    flat = [m for ms in messages.values() for m in ms]
    assert len(flat) == 13  # of 16: a join, a leave and a topic change are no messages
    assert sum(1 for m in flat if m.thread_ts == ROOT_TS) == 3  # Slack's reply_count said 7
    assert sum(len(users) for m in flat for _, users in m.reactions) == 4
    assert sum(len(m.files) for m in flat) == 1
    root = next(m for m in flat if m.ts == ROOT_TS)
    assert root.text == (
        f"Welcome <@uuid-bob> and <@{user_map.ids[CAROL]}>! See <#{channels[RANDOM]}>, <!here>: "
        "<https://example.com|the docs> & 1 < 2"
    )
    assert channels[GENERAL] == "C0PGENERAL"  # merged into the workspace's #general
    assert not any(
        re.search(r"<[@#][UWCGD]0[A-Z0-9]{7}>", m.text) for m in flat
    )  # no Slack id left
    authors = {user_map.resolve(m.user, bot=m.by_bot, name=m.bot_name).kind for m in flat}
    assert authors == {"existing", "placeholder", "bot"}
    legacy = next(m for m in flat if m.user == LEGACY_BOT)
    assert user_map.resolve(legacy.user, bot=legacy.by_bot, name=legacy.bot_name).name == "ci"
    assert user_map.ids[ALICE] == user_map.ids[ALICE_SHARED]
