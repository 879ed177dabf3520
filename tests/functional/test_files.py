"""File sharing as a Slack user knows it: upload straight to S3 with a presigned POST,
complete, share in a message, download with a presigned GET if one may see the file.

moto (in process) takes the upload form over `requests` as S3 would, but enforces no POST
policy: these tests upload what a lying client would, and the completion check refuses it.
The policy's conditions are proven by decoding it.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests
from boto3.dynamodb.types import TypeDeserializer

from tests.functional.conftest import (
    ALICE,
    BOB,
    BUCKET,
    CAROL,
    TABLE,
    Api,
    Context,
    RecordingPoster,
    load_function,
    post,
    template,
    ws_event,
)

PDF = b"%PDF-1.7 quarterly numbers"


def start(
    api: Api,
    wid: str,
    content: bytes = PDF,
    *,
    name: str = "Q3 report.pdf",
    content_type: str = "application/pdf",
    user: str = ALICE,
    **extra: Any,
) -> dict[str, Any]:
    body = {"name": name, "size": len(content), "contentType": content_type, **extra}
    status, reply = api("POST", f"/workspaces/{wid}/files", user=user, body=body)
    assert status == 201, reply
    return reply  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def upload(started: dict[str, Any], content: bytes, **override: str) -> None:
    """What a browser does with the form: the fields, then the file (moto checks nothing)."""
    form = started["upload"]
    fields = {**form["fields"], **override}
    reply = requests.post(form["url"], data=fields, files={"file": ("f", content)}, timeout=10)
    assert reply.status_code == 204, reply.text


def complete(api: Api, fid: str, user: str = ALICE) -> tuple[int, Any]:
    return api("POST", f"/files/{fid}/complete", user=user)


def ready_file(api: Api, wid: str, content: bytes = PDF, **kwargs: Any) -> dict[str, Any]:
    started = start(api, wid, content, **kwargs)
    upload(started, content)
    status, body = complete(api, started["file"]["id"], user=kwargs.get("user", ALICE))
    assert status == 200, body
    return body["file"]  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def policy(started: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(started["upload"]["fields"]["policy"]))  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping


def stored_object(key: str) -> dict[str, Any] | None:
    try:
        return boto3.client("s3").head_object(Bucket=BUCKET, Key=key)  # type: ignore[no-any-return]  # a value read from JSON or an untyped mapping
    except boto3.client("s3").exceptions.ClientError:
        return None


def object_key(fid: str) -> str:
    from parley.adapters.dynamodb import files

    found = files.find_file(fid)
    assert found is not None
    return found.objectKey


# ------------------------------------------------------------------ the whole flow


def test_upload_complete_share_and_download_end_to_end(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    connect("bob-1", BOB, wid)
    started = start(api, wid)
    file = started["file"]
    assert file["status"] == "pending"
    assert (file["name"], file["size"], file["contentType"]) == (
        "Q3 report.pdf",
        len(PDF),
        "application/pdf",
    )
    assert (file["workspaceId"], file["uploadedBy"]) == (wid, ALICE)
    upload(started, PDF)
    status, done = complete(api, file["id"])
    assert status == 200
    assert done["file"] == {**file, "status": "ready"}

    message = post(api, general, "numbers attached", fileIds=[file["id"]])
    assert message["files"] == [done["file"]]
    assert poster.events("bob-1", "message")[0]["message"]["files"] == [done["file"]]
    _, history = api("GET", f"/channels/{general}/messages", user=BOB)
    assert history["messages"][0]["files"] == [done["file"]]

    status, got = api("GET", f"/files/{file['id']}", user=BOB)
    assert status == 200
    assert got["file"] == done["file"]
    signed = parse_qs(urlparse(got["downloadUrl"]).query)
    assert (signed["X-Amz-Algorithm"], signed["X-Amz-Expires"]) == (["AWS4-HMAC-SHA256"], ["900"])
    download = requests.get(got["downloadUrl"], timeout=10)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Q3_report.pdf\"; filename*=UTF-8''Q3%20report.pdf"
    )


def test_the_object_key_is_per_workspace_and_file_and_completion_retags_it_ready(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    file = ready_file(api, wid, name="../../Résumé (final).pdf")
    key = object_key(file["id"])
    assert key == f"{wid}/{file['id']}/Resume_final_.pdf"
    tags = boto3.client("s3").get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]
    assert tags == [{"Key": "parley-upload", "Value": "ready"}]


def test_completing_twice_returns_the_ready_file(api: Api, workspace: dict[str, str]) -> None:
    file = ready_file(api, workspace["wid"])
    status, again = complete(api, file["id"])
    assert (status, again["file"]) == (200, file)


# ------------------------------------------------------------------ the policy


def test_the_policy_pins_key_type_exact_size_and_pending_tag_for_five_minutes(
    api: Api, workspace: dict[str, str]
) -> None:
    before = time.time()
    started = start(api, workspace["wid"])
    fid = started["file"]["id"]
    document = policy(started)
    conditions = document["conditions"]
    key = f"{workspace['wid']}/{fid}/Q3_report.pdf"
    assert {"key": key} in conditions
    assert {"bucket": BUCKET} in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert ["content-length-range", len(PDF), len(PDF)] in conditions
    tagging = next(c["tagging"] for c in conditions if isinstance(c, dict) and "tagging" in c)
    assert "<Key>parley-upload</Key><Value>pending</Value>" in tagging
    # No starts-with condition: nothing in the form may vary from what was declared.
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"]
    fields = started["upload"]["fields"]
    assert (fields["key"], fields["Content-Type"], fields["tagging"]) == (
        key,
        "application/pdf",
        tagging,
    )
    expires = datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before + 299 <= expires.timestamp() <= time.time() + 301
    stated = datetime.fromisoformat(started["upload"]["expiresAt"].replace("Z", "+00:00"))
    assert abs((stated - expires).total_seconds()) <= 1


def test_the_pending_tag_is_the_one_the_lifecycle_rule_expires() -> None:
    from parley.adapters.s3 import PENDING, UPLOAD_TAG_KEY

    rules = template()["Resources"]["FilesBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = [r for r in rules if r.get("TagFilters")]
    assert expiring[0]["TagFilters"] == [{"Key": UPLOAD_TAG_KEY, "Value": PENDING}]
    assert expiring[0]["ExpirationInDays"] == 1
    assert any("AbortIncompleteMultipartUpload" in r for r in rules)


# ------------------------------------------------------------------ refusals


def test_a_declared_size_over_the_limit_is_refused_before_anything_is_written(
    api: Api, workspace: dict[str, str]
) -> None:
    from parley.adapters.dynamodb.items import FileItem

    body = {"name": "movie.mp4", "size": 10 * 1024 * 1024 + 1, "contentType": "video/mp4"}
    status, reply = api("POST", f"/workspaces/{workspace['wid']}/files", body=body)
    assert (status, reply["error"]["code"]) == (413, "too_large")
    assert list(FileItem.query(f"WS#{workspace['wid']}", FileItem.SK.startswith("FILE#"))) == []
    body["size"] = 10 * 1024 * 1024
    status, _ = api("POST", f"/workspaces/{workspace['wid']}/files", body=body)
    assert status == 201


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a.pdf", "size": 0, "contentType": "application/pdf"},
        {"name": "a.pdf", "size": 3, "contentType": "pdf"},
        {"name": "a.pdf", "size": 3, "contentType": "text/plain; charset=utf-8"},
        {"name": "", "size": 3, "contentType": "text/plain"},
        {"name": "x" * 256, "size": 3, "contentType": "text/plain"},
        {"name": "a\nb.txt", "size": 3, "contentType": "text/plain"},
        {"size": 3, "contentType": "text/plain"},
    ],
    ids=[
        "empty",
        "not a type",
        "parameters",
        "no name",
        "long name",
        "control character",
        "missing name",
    ],
)
def test_bad_declarations_are_refused(
    api: Api, workspace: dict[str, str], body: dict[str, Any]
) -> None:
    status, reply = api("POST", f"/workspaces/{workspace['wid']}/files", body=body)
    assert status in (400, 422)
    assert reply["error"]["code"] == "invalid_request"


def test_outsiders_cannot_start_uploads_and_a_channel_must_be_ones_own(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    body = {"name": "a.txt", "size": 1, "contentType": "text/plain"}
    status, _ = api("POST", f"/workspaces/{wid}/files", user=CAROL, body=body)
    assert status == 404
    _, private = api("POST", f"/workspaces/{wid}/channels", body={"name": "board", "private": True})
    hidden = {**body, "channelId": private["channel"]["id"]}
    status, _ = api("POST", f"/workspaces/{wid}/files", user=BOB, body=hidden)
    assert status == 404
    started = start(
        api, wid, b"x", name="a.txt", content_type="text/plain", channelId=hidden["channelId"]
    )
    assert started["file"]["status"] == "pending"


def test_an_object_of_another_type_is_refused_and_removed(
    api: Api, workspace: dict[str, str]
) -> None:
    started = start(api, workspace["wid"])
    fid = started["file"]["id"]
    key = object_key(fid)
    upload(started, PDF, **{"Content-Type": "text/html"})  # S3 would refuse; moto does not
    assert stored_object(key) is not None
    status, reply = complete(api, fid)
    assert (status, reply["error"]["code"]) == (400, "invalid_request")
    assert "text/html" in reply["error"]["message"]
    assert stored_object(key) is None
    assert complete(api, fid)[0] == 404  # the refused upload is gone, not pending


def test_an_object_of_another_size_is_refused_and_removed(
    api: Api, workspace: dict[str, str]
) -> None:
    started = start(api, workspace["wid"])
    fid = started["file"]["id"]
    upload(started, PDF + b" and a payload nobody declared")
    status, reply = complete(api, fid)
    assert (status, reply["error"]["code"]) == (400, "invalid_request")
    assert "were declared" in reply["error"]["message"]
    assert stored_object(object_key_for(started)) is None
    status, _ = api("GET", f"/files/{fid}")
    assert status == 404


def object_key_for(started: dict[str, Any]) -> str:
    return str(started["upload"]["fields"]["key"])


def test_nobody_completes_someone_elses_upload(api: Api, workspace: dict[str, str]) -> None:
    started = start(api, workspace["wid"])
    fid = started["file"]["id"]
    upload(started, PDF)
    for other in (BOB, CAROL):
        status, reply = complete(api, fid, user=other)
        assert (status, reply["error"]["code"]) == (404, "not_found")
    assert complete(api, fid)[0] == 200


def test_completing_before_the_upload_arrives_is_a_conflict_and_stays_pending(
    api: Api, workspace: dict[str, str]
) -> None:
    started = start(api, workspace["wid"])
    fid = started["file"]["id"]
    status, reply = complete(api, fid)
    assert (status, reply["error"]["code"]) == (409, "conflict")
    status, reply = api("GET", f"/files/{fid}")
    assert (status, reply["error"]["code"]) == (409, "conflict")  # the uploader sees it pending
    assert api("GET", f"/files/{fid}", user=BOB)[0] == 404
    upload(started, PDF)
    assert complete(api, fid)[0] == 200


def test_an_expired_upload_that_never_arrived_is_refused_and_forgotten(
    api: Api, workspace: dict[str, str]
) -> None:
    from parley.adapters.dynamodb import files
    from parley.adapters.dynamodb.items import FileItem

    started = start(api, workspace["wid"])
    fid = started["file"]["id"]
    assert files.find_file(fid) is not None
    # Five minutes pass (the POST policy has expired; S3 would refuse the form now).
    FileItem(*files.file_key(workspace["wid"], fid)).update(
        actions=[FileItem.uploadExpiresAt.set(int(time.time()) - 1)]
    )
    status, reply = complete(api, fid)
    assert (status, reply["error"]["code"]) == (409, "conflict")
    assert "expired" in reply["error"]["message"]
    assert files.find_file(fid) is None
    assert complete(api, fid)[0] == 404


def test_a_pending_file_expires_with_its_upload_after_a_day(
    api: Api, workspace: dict[str, str]
) -> None:
    from parley.adapters.dynamodb import files
    from parley.adapters.dynamodb.items import FileItem, FileRefItem

    def ttls(fid: str) -> list[datetime | None]:
        """The TTLs of the file's item and of the reference that finds it by id."""
        item = FileItem.get(*files.file_key(workspace["wid"], fid), consistent_read=True)
        ref = FileRefItem.get(*files.ref_key(fid), consistent_read=True)
        return [item.ttl, ref.ttl]

    started = start(api, workspace["wid"])
    fid = started["file"]["id"]
    for ttl in ttls(fid):
        assert ttl is not None
        assert 86_000 < ttl.timestamp() - time.time() <= 86_400
    upload(started, PDF)
    complete(api, fid)
    assert ttls(fid) == [None, None]


# ------------------------------------------------------------------ sharing and visibility


def test_a_file_shared_only_in_a_private_channel_is_a_404_to_everyone_else(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    _, private = api("POST", f"/workspaces/{wid}/channels", body={"name": "board", "private": True})
    file = ready_file(api, wid)
    post(api, private["channel"]["id"], "board pack", fileIds=[file["id"]])
    assert api("GET", f"/files/{file['id']}")[0] == 200  # the uploader
    for outsider in (BOB, CAROL):
        status, reply = api("GET", f"/files/{file['id']}", user=outsider)
        assert (status, reply["error"]["code"]) == (404, "not_found")
    api("POST", f"/channels/{private['channel']['id']}/members", body={"userIds": [BOB]})
    assert api("GET", f"/files/{file['id']}", user=BOB)[0] == 200
    assert api("GET", f"/files/{file['id']}", user=CAROL)[0] == 404


def test_an_unshared_file_is_its_uploaders_alone(api: Api, workspace: dict[str, str]) -> None:
    file = ready_file(api, workspace["wid"])
    assert api("GET", f"/files/{file['id']}")[0] == 200
    assert api("GET", f"/files/{file['id']}", user=BOB)[0] == 404


def test_a_public_share_reaches_workspace_members_who_never_joined_the_channel(
    api: Api, workspace: dict[str, str]
) -> None:
    wid = workspace["wid"]
    _, random = api("POST", f"/workspaces/{wid}/channels", body={"name": "random"})
    file = ready_file(api, wid)
    post(api, random["channel"]["id"], "", fileIds=[file["id"]])  # text may be empty
    assert api("GET", f"/files/{file['id']}", user=BOB)[0] == 200
    assert api("GET", f"/files/{file['id']}", user=CAROL)[0] == 404


def test_deleting_the_only_message_that_shares_a_file_hides_it_again(
    api: Api, workspace: dict[str, str]
) -> None:
    general = workspace["general"]
    file = ready_file(api, workspace["wid"])
    first = post(api, general, "one", fileIds=[file["id"]])
    second = post(api, general, "two", fileIds=[file["id"]])
    assert api("DELETE", f"/channels/{general}/messages/{first['ts']}")[0] == 204
    assert api("GET", f"/files/{file['id']}", user=BOB)[0] == 200  # still shared by "two"
    assert api("DELETE", f"/channels/{general}/messages/{second['ts']}")[0] == 204
    assert api("GET", f"/files/{file['id']}", user=BOB)[0] == 404
    assert api("GET", f"/files/{file['id']}")[0] == 200


def test_only_ready_files_the_sender_may_see_in_the_same_workspace_can_be_shared(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    pending = start(api, wid)["file"]
    status, reply = api(
        "POST", f"/channels/{general}/messages", body={"text": "x", "fileIds": [pending["id"]]}
    )
    assert (status, reply["error"]["code"]) == (409, "conflict")
    alices = ready_file(api, wid)
    status, _ = api(
        "POST",
        f"/channels/{general}/messages",
        user=BOB,
        body={"text": "leak", "fileIds": [alices["id"]]},
    )
    assert status == 404  # Bob cannot see it, so he cannot share it
    _, other = api("POST", "/workspaces", user=CAROL, body={"name": "Elsewhere"})
    _, other_channels = api("GET", f"/workspaces/{other['workspace']['id']}/channels", user=CAROL)
    elsewhere = other_channels["channels"][0]["id"]
    status, _ = api(
        "POST",
        f"/channels/{elsewhere}/messages",
        user=CAROL,
        body={"text": "x", "fileIds": [ready_file(api, wid)["id"]]},
    )
    assert status == 404
    carols = ready_file(api, other["workspace"]["id"], user=CAROL)
    status, _ = api(
        "POST", f"/channels/{general}/messages", body={"text": "x", "fileIds": [carols["id"]]}
    )
    assert status == 404  # a file of another workspace, even one the sender could see


def test_a_file_once_shared_may_be_shared_on_by_those_who_see_it(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    _, random = api("POST", f"/workspaces/{wid}/channels", user=BOB, body={"name": "random"})
    file = ready_file(api, wid)
    post(api, general, "fyi", fileIds=[file["id"]])
    shared_on = post(api, random["channel"]["id"], "see this", user=BOB, fileIds=[file["id"]])
    assert [f["id"] for f in shared_on["files"]] == [file["id"]]


def test_file_ids_are_deduplicated_in_order_and_at_most_ten(
    api: Api, workspace: dict[str, str]
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    one, two = ready_file(api, wid), ready_file(api, wid, b"second")
    message = post(api, general, "two files", fileIds=[two["id"], one["id"], two["id"]])
    assert [f["id"] for f in message["files"]] == [two["id"], one["id"]]
    status, reply = api(
        "POST", f"/channels/{general}/messages", body={"text": "x", "fileIds": [one["id"]] * 11}
    )
    assert (status, reply["error"]["code"]) == (422, "invalid_request")
    status, _ = api("POST", f"/channels/{general}/messages", body={"text": " ", "fileIds": []})
    assert status == 400  # no text and no file


def test_send_message_over_the_websocket_shares_files_too(
    api: Api, workspace: dict[str, str], connect, poster: RecordingPoster
) -> None:
    wid, general = workspace["wid"], workspace["general"]
    connect("alice-1", ALICE, wid)
    file = ready_file(api, wid)
    frame = {"action": "sendMessage", "id": "f1", "channelId": general, "fileIds": [file["id"]]}
    reply = load_function("ws_send_message").lambda_handler(
        ws_event("ws_send_message.json", "alice-1", ALICE, wid, frame), Context()
    )
    ack = json.loads(reply["body"])
    assert ack["type"] == "ack"
    assert ack["message"]["files"] == [file]
    assert ack["message"]["text"] == ""
    assert api("GET", f"/files/{file['id']}", user=BOB)[0] == 200


def test_a_message_with_files_is_indexed_with_has_file(api: Api, workspace: dict[str, str]) -> None:
    from parley.search.changes import change_from_stream

    general = workspace["general"]
    file = ready_file(api, workspace["wid"])
    with_file = post(api, general, "the deck", fileIds=[file["id"]])
    without = post(api, general, "no deck")

    def image(ts: str) -> dict[str, Any]:
        key = {"PK": {"S": f"CH#{general}"}, "SK": {"S": f"MSG#{ts}"}}
        item = boto3.client("dynamodb").get_item(TableName=TABLE, Key=key)["Item"]
        return {k: TypeDeserializer().deserialize(v) for k, v in item.items()}

    indexed = change_from_stream("INSERT", image(with_file["ts"]), None)
    assert indexed is not None
    assert indexed.hasFile
    assert indexed.document()["hasFile"] is True
    plain = change_from_stream("INSERT", image(without["ts"]), None)
    assert plain is not None
    assert not plain.hasFile


# ------------------------------------------------------------------ file names


@pytest.mark.parametrize(
    ("name", "ascii", "exact"),
    [
        ("report.pdf", "report.pdf", "report.pdf"),
        ("Résumé (final).pdf", "Resume_final_.pdf", "R%C3%A9sum%C3%A9%20%28final%29.pdf"),
        ('say "hi"\\.txt', "say_hi_.txt", "say%20%22hi%22%5C.txt"),
        ("../../etc/passwd", "etc_passwd", "..%2F..%2Fetc%2Fpasswd"),
        ("日本語", "file", "%E6%97%A5%E6%9C%AC%E8%AA%9E"),
    ],
)
def test_download_names_follow_rfc_6266(name: str, ascii: str, exact: str) -> None:
    from parley.domain.filenames import ascii_name, content_disposition

    assert ascii_name(name) == ascii
    assert (
        content_disposition(name) == f"attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}"
    )


def test_long_names_keep_their_extension_in_the_key() -> None:
    from parley.domain.filenames import ascii_name

    shortened = ascii_name("a" * 300 + ".tar.gz")
    assert len(shortened) <= 100
    assert shortened.endswith(".gz")


def test_the_text_of_a_message_that_shares_files_may_be_emptied_by_an_edit(
    api: Api, workspace: dict[str, str]
) -> None:
    general = workspace["general"]
    file = ready_file(api, workspace["wid"])
    shared = post(api, general, "see attached", fileIds=[file["id"]])
    plain = post(api, general, "no files")
    status, edited = api("PATCH", f"/channels/{general}/messages/{shared['ts']}", body={"text": ""})
    assert status == 200
    assert (edited["message"]["text"], edited["message"]["files"]) == ("", [file])
    status, reply = api("PATCH", f"/channels/{general}/messages/{plain['ts']}", body={"text": " "})
    assert (status, reply["error"]["code"]) == (400, "invalid_request")
