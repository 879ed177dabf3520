"""Retention end to end on the local stack: a workspace admin sets a policy, a run of the
sweep is queued as the daily schedule queues it (`make retention-sweep`'s module, at a time
two days ahead), and the local runtime's retention queue consumer deletes a message, its
reply and its file: gone from the table, from the bucket and, through the stream's REMOVE
records, the forwarder and the indexer, from the real OpenSearch's search results, while a
channel whose own policy keeps longer keeps everything."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
import requests

from local.aws import FAKE_CREDENTIALS
from local.search_node import OpenSearchNode
from local.stack import Stack
from parley import retention_run
from tests.integration.test_messaging import User

pytestmark = pytest.mark.integration

BUCKET = "parley-local-filesbucket"
TABLE = "parley-local-AppTable"
WITHIN_S = 20


def _eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WITHIN_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WITHIN_S}s")
        time.sleep(0.25)


def test_the_sweep_removes_message_reply_and_file_from_table_search_and_bucket(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not any(isinstance(s, OpenSearchNode) for s in stack.config.services):
        pytest.skip("no JDK or Maven on this machine: the stack runs without search")
    assert stack.aws is not None
    n = uuid.uuid4().hex[:8]
    alice = User(stack, f"ralice{n}")
    _, created = alice.call("POST", "/workspaces", {"name": f"Retention {n}"})
    wid = created["workspace"]["id"]
    _, listed = alice.call("GET", f"/workspaces/{wid}/channels")
    general = next(c["id"] for c in listed["channels"] if c["name"] == "general")
    _, made = alice.call("POST", f"/workspaces/{wid}/channels", {"name": "keep"})
    keep = made["channel"]["id"]

    content = b"retained? no" * 100
    body = {"name": "minutes.txt", "size": len(content), "contentType": "text/plain"}
    _, started = alice.call("POST", f"/workspaces/{wid}/files", body)
    upload, fid = started["upload"], started["file"]["id"]
    sent = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("m", content)}, timeout=30
    )
    assert sent.status_code == 204, sent.text
    assert alice.call("POST", f"/files/{fid}/complete")[0] == 200
    word = f"sweepable{n}"
    status, root = alice.call(
        "POST", f"/channels/{general}/messages", {"text": f"{word} root", "fileIds": [fid]}
    )
    assert status == 201, root
    root_ts = root["message"]["ts"]
    status, reply = alice.call(
        "POST", f"/channels/{general}/messages", {"text": f"{word} reply", "threadTs": root_ts}
    )
    assert status == 201, reply
    reply_ts = reply["message"]["ts"]
    status, kept = alice.call("POST", f"/channels/{keep}/messages", {"text": f"{word} kept"})
    assert status == 201, kept

    def found() -> list[str]:
        status, results = alice.call("GET", f"/workspaces/{wid}/search?q={quote(word)}")
        assert status == 200, results
        return sorted(r["message"]["text"] for r in results["results"])

    everything = [f"{word} kept", f"{word} reply", f"{word} root"]
    _eventually(lambda: found() == everything, "the three messages indexed")
    s3, dynamodb = stack.aws("s3"), stack.aws("dynamodb")
    key = next(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{wid}/")["Contents"])

    assert alice.call("PUT", f"/workspaces/{wid}/retention", {"days": 1})[0] == 204
    assert alice.call("PUT", f"/channels/{keep}/retention", {"days": 30})[0] == 204
    queue_url = stack.aws("sqs").get_queue_url(QueueName="parley-local-RetentionQueue")["QueueUrl"]
    ahead = datetime.fromtimestamp(time.time() + 2 * 86_400, UTC).isoformat()
    arguments = ["--queue-url", queue_url, "--aws-endpoint-url", stack.aws_url, "--at", ahead]
    for name, value in FAKE_CREDENTIALS.items():  # moto's, for the CLI's own client
        monkeypatch.setenv(name.upper(), value)
    assert retention_run.main(arguments) == 0

    def in_table(cid: str, ts: str) -> bool:
        key_ = {"PK": {"S": f"CH#{cid}"}, "SK": {"S": f"MSG#{ts}"}}
        return "Item" in dynamodb.get_item(TableName=TABLE, Key=key_, ConsistentRead=True)

    _eventually(lambda: not in_table(general, root_ts), "the root deleted")
    _eventually(lambda: not in_table(general, reply_ts), "the reply deleted")
    _eventually(
        lambda: s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{wid}/")["KeyCount"] == 0,
        "the file's object deleted",
    )
    assert key  # it was there before the run
    assert alice.call("GET", f"/files/{fid}")[0] == 404
    assert alice.call("GET", f"/channels/{general}/messages/{root_ts}")[0] == 404
    _eventually(lambda: found() == [f"{word} kept"], "the tombstones indexed")
    assert in_table(keep, kept["message"]["ts"])
