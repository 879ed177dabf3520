"""The frame scanner behind API Gateway's 32 KB frame limit, on raw client bytes."""

from __future__ import annotations

import os

import pytest

from local.ws_frames import MAX_FRAME_BYTES, FrameScanner


def frame(length: int, opcode: int = 0x1, fin: bool = True) -> bytes:
    """A masked client frame of `length` payload bytes."""
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        header = bytes([first, 0x80 | length])
    elif length < 2**16:
        header = bytes([first, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([first, 0x80 | 127]) + length.to_bytes(8, "big")
    return header + os.urandom(4) + os.urandom(length)


def test_frames_up_to_the_limit_pass_whatever_the_chunking() -> None:
    stream = frame(5) + frame(MAX_FRAME_BYTES) + frame(0x7D, opcode=0x9) + frame(70_000 // 3)
    for size in (1, 7, 1000, len(stream)):
        scanner = FrameScanner()
        chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
        assert all(scanner.oversized_at(chunk) is None for chunk in chunks)


def test_an_oversized_frame_is_found_where_it_starts() -> None:
    before = frame(10) + frame(200)
    scanner = FrameScanner()
    assert scanner.oversized_at(before + frame(MAX_FRAME_BYTES + 1)) == len(before)


@pytest.mark.parametrize("length", [MAX_FRAME_BYTES + 1, 2**16 + 5])
def test_an_oversized_frame_split_across_chunks_is_found(length: int) -> None:
    scanner = FrameScanner()
    data = frame(10) + frame(length)
    split = len(frame(10)) + 1  # the second frame's header starts in the first chunk
    first, second = data[:split], data[split:]
    assert scanner.oversized_at(first) is None
    assert scanner.oversized_at(second) == 0


def test_continuation_frames_count_too() -> None:
    scanner = FrameScanner()
    data = frame(100, opcode=0x1, fin=False) + frame(MAX_FRAME_BYTES + 1, opcode=0x0)
    assert scanner.oversized_at(data) == len(frame(100))
