"""API Gateway's WebSocket size limits on an aiohttp WebSocket: frames up to 32 KB, messages
(a frame and its continuations) up to 128 KB; beyond either it closes with 1009.

aiohttp limits whole messages only (`max_msg_size`). For the frame limit, `FrameScanner`
follows frame boundaries in the raw bytes the client sends, reading only the 2 to 14 header
bytes of each frame, and `ApiGatewayWebSocket` puts it in front of aiohttp's frame reader.
That hook uses aiohttp internals (`_post_start`, the protocol's `_payload_parser`), pinned by
the lock file and covered by tests/integration/test_local_runtime_websocket.py.
"""

from __future__ import annotations

from typing import Any

from aiohttp import WSCloseCode, web
from aiohttp.http_websocket import WebSocketError

MAX_FRAME_BYTES = 32 * 1024
MAX_MESSAGE_BYTES = 128 * 1024
TOO_BIG_REASON = b"Message too big"

_DATA_OPCODES = frozenset({0x0, 0x1, 0x2})  # continuation, text, binary


class FrameScanner:
    """Tracks WebSocket frame boundaries across chunks of a client's byte stream."""

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._max = max_frame_bytes
        self._header = bytearray()
        self._payload_left = 0

    def oversized_at(self, data: bytes) -> int | None:
        """Where, in `data`, the first data frame longer than the limit starts (0 when its
        header began in an earlier chunk), or None when every frame so far fits."""
        position = 0
        while position < len(data):
            if self._payload_left:
                step = min(self._payload_left, len(data) - position)
                self._payload_left -= step
                position += step
                continue
            header_start = position - len(self._header)
            self._header.append(data[position])
            position += 1
            needed = self._header_length()
            if needed is None or len(self._header) < needed:
                continue
            opcode, length = self._header[0] & 0x0F, self._payload_length()
            self._header.clear()
            if opcode in _DATA_OPCODES and length > self._max:
                return max(0, header_start)
            self._payload_left = length
        return None

    def _header_length(self) -> int | None:
        if len(self._header) < 2:
            return None
        length_code = self._header[1] & 0x7F
        extended = {126: 2, 127: 8}.get(length_code, 0)
        mask = 4 if self._header[1] & 0x80 else 0
        return 2 + extended + mask

    def _payload_length(self) -> int:
        length_code = self._header[1] & 0x7F
        if length_code == 126:
            return int.from_bytes(self._header[2:4], "big")
        if length_code == 127:
            return int.from_bytes(self._header[2:10], "big")
        return length_code


class _FrameLimitedReader:
    """Stands in for aiohttp's WebSocketReader: passes bytes on until an oversized frame,
    then fails the message queue as aiohttp's own size check does."""

    def __init__(self, reader: Any, queue: Any, scanner: FrameScanner) -> None:
        self._reader = reader
        self._queue = queue
        self._scanner = scanner

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        oversized_at = self._scanner.oversized_at(data)
        if oversized_at is None:
            return self._reader.feed_data(data)
        if oversized_at:
            self._reader.feed_data(data[:oversized_at])
        self._queue.set_exception(WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, "Message too big"))
        return True, b""

    def feed_eof(self) -> None:
        self._reader.feed_eof()


class ApiGatewayWebSocket(web.WebSocketResponse):
    """A server WebSocket with API Gateway's limits; no compression, as API Gateway offers
    none (and so frame sizes on the wire are the sizes that count)."""

    def __init__(self, protocols: tuple[str, ...] = ()) -> None:
        # aiohttp refuses a message of exactly max_msg_size; API Gateway takes 128 KB.
        super().__init__(max_msg_size=MAX_MESSAGE_BYTES + 1, compress=False, protocols=protocols)

    def _post_start(self, request: web.BaseRequest, protocol: str | None, writer: Any) -> None:
        super()._post_start(request, protocol, writer)
        # A client sends nothing before the 101 (RFC 6455 4.1), so the scanner starts at a
        # frame boundary.
        handler: Any = request.protocol
        handler._payload_parser = _FrameLimitedReader(
            handler._payload_parser, self._reader, FrameScanner()
        )

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes = b"", drain: bool = True
    ) -> bool:
        # aiohttp closes an oversized message with 1009 and no reason; API Gateway says why.
        if code == WSCloseCode.MESSAGE_TOO_BIG and not message:
            message = TOO_BIG_REASON
        return await super().close(code=code, message=message, drain=drain)
