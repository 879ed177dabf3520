"""Retention (API.md, "Team features"): the policy routes, and apps not hearing the
sweep's deletes as `message_deleted`.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.conftest import (
    ALICE,
    BOB,
    CAROL,
    Api,
)
from tests.functional.test_app_events import forward, install, message_image


def put_retention(api: Api, path: str, days: Any, user: str = ALICE) -> tuple[int, Any]:
    return api("PUT", f"{path}/retention", user=user, body={"days": days})


# ------------------------------------------------------------------ the policy routes


def test_admins_set_and_clear_the_workspace_and_channel_retention(
    api: Api, workspace: dict[str, str]
) -> None:
    from parley.adapters.dynamodb import retention

    wid, general = workspace["wid"], workspace["general"]
    assert put_retention(api, f"/workspaces/{wid}", 30) == (204, None)
    assert put_retention(api, f"/channels/{general}", 7) == (204, None)
    found = {(p.channelId, p.days) for p in retention.policies()}
    assert found == {(None, 30), (general, 7)}
    assert put_retention(api, f"/workspaces/{wid}", 90)[0] == 204  # replaced
    assert put_retention(api, f"/workspaces/{wid}", None)[0] == 204  # keep forever
    assert {(p.channelId, p.days) for p in retention.policies()} == {(general, 7)}
    assert put_retention(api, f"/channels/{general}", None)[0] == 204
    # A channel's null keeps it forever, whatever the workspace says: it stays a policy.
    assert {(p.channelId, p.days) for p in retention.policies()} == {(general, None)}


@pytest.mark.parametrize("days", [0, 3651, -1, "thirty", 2.5, [30]])
def test_days_outside_1_to_3650_are_refused(api: Api, workspace: dict[str, str], days: Any) -> None:
    for path in (f"/workspaces/{workspace['wid']}", f"/channels/{workspace['general']}"):
        status, reply = put_retention(api, path, days)
        assert status in (400, 422), reply  # API.md: invalid_request, 400 or 422
        assert reply["error"]["code"] == "invalid_request"


def test_a_body_without_days_is_refused(api: Api, workspace: dict[str, str]) -> None:
    status, reply = api("PUT", f"/workspaces/{workspace['wid']}/retention", body={})
    assert (status, reply["error"]["code"]) == (422, "invalid_request")
    status, reply = api("PUT", f"/channels/{workspace['general']}/retention", raw_body="{no")
    assert (status, reply["error"]["code"]) == (422, "invalid_request")


def test_only_admins_set_retention_and_outsiders_learn_nothing(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    status, reply = put_retention(api, f"/workspaces/{wid}", 30, user=BOB)
    assert (status, reply["error"]["code"]) == (403, "forbidden")
    assert put_retention(api, f"/channels/{general}", 30, user=BOB)[0] == 403
    assert put_retention(api, f"/workspaces/{wid}", 30, user=CAROL)[0] == 404
    assert put_retention(api, f"/channels/{general}", 30, user=CAROL)[0] == 404
    assert put_retention(api, "/channels/C-nope", 30)[0] == 404
    # A private channel exists only for its members, a workspace admin's too.
    _, made = api(
        "POST", f"/workspaces/{wid}/channels", user=BOB, body={"name": "secret", "private": True}
    )
    secret = made["channel"]["id"]
    assert put_retention(api, f"/channels/{secret}", 30)[0] == 404
    assert put_retention(api, f"/channels/{secret}", 30, user=BOB)[0] == 403
    api("POST", f"/channels/{secret}/members", user=BOB, body={"userIds": [ALICE]})
    assert put_retention(api, f"/channels/{secret}", 30)[0] == 204


def test_apps_do_not_hear_the_sweeps_deletes_as_message_deleted(
    api: Api, workspace: dict[str, str]
) -> None:
    from parley.streams import StreamRecord

    wid, general = workspace["wid"], workspace["general"]
    app = install(api, wid, ["message.channels"], ["channels:history"], channel=general)
    # message_image's messages were sent on 2025-11-28: over a year ago.
    old = StreamRecord("1", "REMOVE", None, message_image(wid, general, ALICE, 1))
    [heard] = forward([old]).heard(app)  # no policy: a person deleted it
    assert heard["subtype"] == "message_deleted"
    assert put_retention(api, f"/workspaces/{wid}", 30)[0] == 204
    assert forward([old]).heard(app) == []  # past the workspace's 30 days: the sweep's
    assert put_retention(api, f"/channels/{general}", 3650)[0] == 204
    assert len(forward([old]).heard(app)) == 1  # the channel keeps it ten years
