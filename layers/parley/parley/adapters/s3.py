"""Adapter: the files bucket (boto3 `s3`): presigned POSTs and GETs, and the object checks
that completion makes.

Uploads carry the tag `parley-upload=pending`, pinned by the POST policy; the bucket's
lifecycle rule (template.yaml, FilesBucket) expires objects with that tag after a day, and
completion retags the object `ready`. moto stores no tags from a POST form (it also enforces
no policy condition), which changes nothing locally: nothing expires there either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

UPLOAD_TAG_KEY = "parley-upload"
PENDING, READY = "pending", "ready"
DELETE_OBJECTS_KEYS = 1000  # DeleteObjects' most keys a request


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str


def tagging_xml(key: str, value: str) -> str:
    """The `tagging` form field of a POST upload (S3 wants the XML document there)."""
    return (
        f"<Tagging><TagSet><Tag><Key>{escape(key)}</Key><Value>{escape(value)}</Value>"
        "</Tag></TagSet></Tagging>"
    )


class S3FileBucket:
    """Made once per process (edge.wiring.file_bucket), on first use, so its client too."""

    def __init__(self, bucket: str, region: str) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        # SigV4 for every presigned request; the endpoint comes from the environment
        # (AWS_ENDPOINT_URL locally, so URLs point at moto, which the client reaches).
        self._client: Any = boto3.client(
            "s3", region_name=region, config=Config(signature_version="s3v4")
        )

    def upload_form(
        self, key: str, content_type: str, size: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        """A presigned POST for exactly this key, type and size, tagged pending."""
        tagging = tagging_xml(UPLOAD_TAG_KEY, PENDING)
        form = self._client.generate_presigned_post(
            self.bucket,
            key,  # botocore adds the {"key": key} condition: the key is pinned exactly
            Fields={"Content-Type": content_type, "tagging": tagging},
            Conditions=[
                {"Content-Type": content_type},
                {"tagging": tagging},
                ["content-length-range", size, size],
            ],
            ExpiresIn=expires_in,
        )
        return str(form["url"]), {str(k): str(v) for k, v in form["fields"].items()}

    def import_form(self, key: str, max_bytes: int, expires_in: int) -> tuple[str, dict[str, str]]:
        """A presigned POST of a Slack export's zip to exactly this key (under the import's
        own `imports/<importId>/` prefix), of 1 to `max_bytes` bytes, of any type (browsers
        call a zip application/zip or application/x-zip-compressed), tagged pending: the
        lifecycle rule removes it a day later, when the import has long read it."""
        tagging = tagging_xml(UPLOAD_TAG_KEY, PENDING)
        form = self._client.generate_presigned_post(
            self.bucket,
            key,
            Fields={"tagging": tagging},
            Conditions=[
                {"tagging": tagging},
                ["starts-with", "$Content-Type", ""],
                ["content-length-range", 1, max_bytes],
            ],
            ExpiresIn=expires_in,
        )
        return str(form["url"]), {str(k): str(v) for k, v in form["fields"].items()}

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """The object's bytes [start, end): one ranged GET (the import reads its zip so,
        never holding it whole)."""
        if end <= start:
            return b""
        reply = self._client.get_object(
            Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}"
        )
        body = reply["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def download_url(self, key: str, disposition: str, expires_in: int) -> str:
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentDisposition": disposition}
        return str(
            self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        )

    def stat(self, key: str) -> StoredObject | None:
        """The object's size, type and time, or None when there is none.

        The function may not list the bucket (least privilege), and S3 then answers a HEAD
        of a missing key with 403 instead of 404: both mean nothing was uploaded.
        """
        from botocore.exceptions import ClientError

        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (403, 404):
                return None
            raise
        return StoredObject(
            size=int(head["ContentLength"]),
            content_type=str(head.get("ContentType") or ""),
        )

    def mark_ready(self, key: str) -> None:
        """Retags the object so the pending-upload lifecycle rule no longer expires it."""
        self._client.put_object_tagging(
            Bucket=self.bucket,
            Key=key,
            Tagging={"TagSet": [{"Key": UPLOAD_TAG_KEY, "Value": READY}]},
        )

    def remove(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=key)

    def remove_many(self, keys: list[str]) -> list[str]:
        """DeleteObjects, 1,000 keys a request (its most); the keys S3 failed to delete.
        A key that is gone already counts as deleted, as S3 reports it."""
        failed: list[str] = []
        for start in range(0, len(keys), DELETE_OBJECTS_KEYS):
            chunk = keys[start : start + DELETE_OBJECTS_KEYS]
            reply = self._client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True},
            )
            failed.extend(error["Key"] for error in reply.get("Errors", []))
        return failed
