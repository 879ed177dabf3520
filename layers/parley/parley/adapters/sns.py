"""Adapter: notifications for offline recipients, published to an SNS topic (boto3 `sns`)."""

from __future__ import annotations

import json
import threading
from typing import Any

from parley.edge.schemas import Notification, PushedMessage


class SnsPush:
    """One message per recipient; `recipient` and `type` are attributes subscribers filter on."""

    def __init__(self, topic_arn: str, region: str) -> None:
        self._topic_arn = topic_arn
        self._region = region
        self._client: Any = None
        self._lock = threading.Lock()

    def _sns(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3

                self._client = boto3.client("sns", region_name=self._region)
            return self._client

    def publish(
        self, recipient: str, workspace_id: str, notification: Notification | PushedMessage
    ) -> None:
        from parley.domain.notifications import wire

        shape = (
            wire(notification)
            if isinstance(notification, Notification)
            else notification.model_dump()
        )
        body = {"recipient": recipient, "workspaceId": workspace_id, **shape}
        self._sns().publish(
            TopicArn=self._topic_arn,
            Message=json.dumps(body, separators=(",", ":")),
            MessageAttributes={
                "recipient": {"DataType": "String", "StringValue": recipient},
                "type": {"DataType": "String", "StringValue": notification.type},
            },
        )
