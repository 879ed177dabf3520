"""Adapter over API Gateway's @connections management API (boto3 `apigatewaymanagementapi`)."""

from __future__ import annotations

import threading
from typing import Any


class ConnectionsApi:
    """Posts frames to WebSocket connections; the client is made on first use and reused."""

    def __init__(self, endpoint_url: str, region: str, pool_size: int = 32) -> None:
        self._endpoint_url = endpoint_url
        self._region = region
        self._pool_size = pool_size
        self._client: Any = None
        self._lock = threading.Lock()

    def _api(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                self._client = boto3.client(
                    "apigatewaymanagementapi",
                    endpoint_url=self._endpoint_url,
                    region_name=self._region,
                    config=Config(
                        max_pool_connections=self._pool_size,
                        connect_timeout=2,
                        read_timeout=5,
                        retries={"mode": "standard", "max_attempts": 3},
                    ),
                )
            return self._client

    def post(self, connection_id: str, data: bytes) -> bool:
        """Sends one frame; False when the connection is gone (410), so the caller prunes it."""
        api = self._api()
        try:
            api.post_to_connection(ConnectionId=connection_id, Data=data)
        except api.exceptions.GoneException:
            return False
        return True
