"""Files end to end on the local stack: the API hands out a presigned POST, `requests`
uploads to moto's S3 at that URL, the API completes and shares it, and the presigned GET
downloads it; someone who cannot see the channel gets a 404."""

from __future__ import annotations

import uuid

import pytest
import requests

from local.stack import Stack
from tests.integration.test_messaging import User

pytestmark = pytest.mark.integration

DECK = b"%PDF-1.7\n" + bytes(range(256)) * 40  # binary, about 10 KB


def test_upload_complete_share_and_download_through_the_local_stack(stack: Stack) -> None:
    n = uuid.uuid4().hex[:8]
    alice, bob, carol = (
        User(stack, f"falice{n}"),
        User(stack, f"fbob{n}"),
        User(stack, f"fcarol{n}"),
    )
    _, created = alice.call("POST", "/workspaces", {"name": f"Files {n}"})
    wid = created["workspace"]["id"]
    _, invite = alice.call("POST", f"/workspaces/{wid}/invites")
    for member in (bob, carol):
        assert member.call("POST", f"/invites/{invite['invite']['code']}/accept")[0] == 200
    status, private = alice.call(
        "POST", f"/workspaces/{wid}/channels", {"name": "deals", "private": True}
    )
    assert status == 201, private
    deals = private["channel"]["id"]
    assert alice.call("POST", f"/channels/{deals}/members", {"userIds": [bob.id]})[0] == 200

    declared = {"name": "Térm sheet.pdf", "size": len(DECK), "contentType": "application/pdf"}
    status, started = alice.call(
        "POST", f"/workspaces/{wid}/files", {**declared, "channelId": deals}
    )
    assert status == 201, started
    upload, fid = started["upload"], started["file"]["id"]
    assert upload["url"].startswith(stack.aws_url)  # moto, which a client on the machine reaches
    sent = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("x.pdf", DECK)}, timeout=30
    )
    assert sent.status_code == 204, sent.text
    status, completed = alice.call("POST", f"/files/{fid}/complete")
    assert status == 200, completed
    assert completed["file"]["status"] == "ready"

    status, posted = alice.call(
        "POST", f"/channels/{deals}/messages", {"text": "signed", "fileIds": [fid]}
    )
    assert status == 201, posted
    assert posted["message"]["files"] == [completed["file"]]

    status, got = bob.call("GET", f"/files/{fid}")
    assert status == 200, got
    assert got["downloadUrl"].startswith(stack.aws_url)
    downloaded = requests.get(got["downloadUrl"], timeout=30)
    assert downloaded.status_code == 200
    assert downloaded.content == DECK
    assert downloaded.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''T%C3%A9rm%20sheet.pdf" in downloaded.headers["content-disposition"]

    status, refused = carol.call("GET", f"/files/{fid}")  # in the workspace, not in #deals
    assert (status, refused["error"]["code"]) == (404, "not_found")


def test_a_lying_upload_is_refused_and_removed_from_the_bucket(stack: Stack) -> None:
    n = uuid.uuid4().hex[:8]
    alice = User(stack, f"lalice{n}")
    _, created = alice.call("POST", "/workspaces", {"name": f"Lies {n}"})
    wid = created["workspace"]["id"]
    body = {"name": "small.txt", "size": 5, "contentType": "text/plain"}
    _, started = alice.call("POST", f"/workspaces/{wid}/files", body)
    upload = started["upload"]
    # moto takes what S3 would refuse under the policy (a bigger file); completion must not.
    sent = requests.post(
        upload["url"],
        data=upload["fields"],
        files={"file": ("x", b"far more than five")},
        timeout=30,
    )
    assert sent.status_code == 204
    status, refused = alice.call("POST", f"/files/{started['file']['id']}/complete")
    assert (status, refused["error"]["code"]) == (400, "invalid_request")
    assert stack.aws is not None
    listed = stack.aws("s3").list_objects_v2(Bucket="parley-local-filesbucket", Prefix=f"{wid}/")
    assert listed.get("KeyCount") == 0


def test_the_local_bucket_has_the_templates_cors_and_lifecycle(stack: Stack) -> None:
    assert stack.aws is not None
    s3 = stack.aws("s3")
    cors = s3.get_bucket_cors(Bucket="parley-local-filesbucket")["CORSRules"]
    assert "POST" in cors[0]["AllowedMethods"]
    rules = s3.get_bucket_lifecycle_configuration(Bucket="parley-local-filesbucket")["Rules"]
    expiring = next(r for r in rules if r["ID"] == "ExpireUploadsNeverCompleted")
    assert expiring["Filter"] == {"Tag": {"Key": "parley-upload", "Value": "pending"}}
    assert expiring["Expiration"] == {"Days": 1}
    preflight = requests.options(
        f"{stack.aws_url}/parley-local-filesbucket",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
        timeout=30,
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "http://localhost:5173")
