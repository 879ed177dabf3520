"""A zip archive read safely from any seekable binary file, S3 through ranged GETs included.

The import function never holds the export in memory: `RangedReader` turns ranged reads of
the object into a seekable file, `zipfile` reads the central directory from its end, and
each member is streamed from its local header with its uncompressed bytes counted as they
come. Every refusal is one exception, `ExportRefused`, whose reason names the member.

What is refused, and why:

- More members, or a larger central directory, than `Limits` allows: checked from the end
  of central directory record before `zipfile` builds an entry per member (about 560 bytes
  each in memory).
- Names with `..`, `.` or empty components, absolute paths, backslashes, drive letters or
  NUL (`zipfile` cuts a name at NUL, so its original name is the one checked); two members
  of one name, which an extractor and this reader could resolve differently.
- Encrypted members, and compression other than stored or deflate (Slack's is deflate).
- A total uncompressed size over the cap, and a member expanding more than `max_ratio` to 1
  past `ratio_floor` bytes: both from the central directory, so a bomb is refused before
  anything is inflated.
- While streaming, the directory is not trusted: a member yielding more bytes than its
  entry declares (a lying header), fewer, a failed CRC, or a local header whose name
  differs from the directory's.
- JSON that is not strict UTF-8, not a JSON array, over its size cap, nested past the
  parser's stack, or holding NaN or Infinity.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

_STORED, _DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
_ENCRYPTED = 0x1
_UTF8_NAME = 0x800
_READ_SIZE = 64 * KiB
_DRIVE = re.compile(r"^[A-Za-z]:")


class Source(Protocol):
    """A seekable binary file: a `RangedReader`, an open file, a `BytesIO`."""

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def read(self, size: int = -1, /) -> bytes: ...

    def tell(self) -> int: ...


class ExportRefused(Exception):
    """The export cannot be imported; `reason` says why, naming the member at fault."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Limits:
    """What an export may hold. The defaults, and the measurements behind them:

    - `max_total_size` 20 GiB of JSON: about ten million messages at Slack's 1-2 KB each
      (indented JSON with blocks), four times the 5 GiB upload limit.
    - `max_ratio` 100 to 1 past `ratio_floor` (1 MiB): Slack's most compressible day files
      measured at 30:1 (one short text repeated, with Slack's per-message fields) to 55:1
      (a CI bot's near-identical posts with attachments); a deflate bomb expands about 1,000:1.
    - `max_members` 100,000: a day file per conversation and day (140 channels busy every
      day for two years). Opening 200,000 members measured 4.5 s and a peak of 150 MB
      (zipfile's entries beside this module's), 75 MB held after: half of that leaves the
      import function room under its 256 MB.
    - `max_directory_size` 32 MiB: 100,000 entries with names of up to 280 bytes.
    - `max_metadata_json` 256 MiB for users.json and the conversation lists: they are
      streamed an element at a time, so the cap bounds time, not memory (a 100,000-person
      org's users.json is about 200 MB).
    - `max_day_json` 64 MiB: a day file is one chunk, written by one invocation; 64 MiB is
      about 40,000 messages, well past Slack's busiest channels and within a chunk's time.
    - `max_json_item` 8 MiB: one element (a message, a user, a channel with its member list)
      held in memory at once; Slack's text limit is 40,000 characters.
    """

    max_total_size: int = 20 * GiB
    max_ratio: int = 100
    ratio_floor: int = 1 * MiB
    max_members: int = 100_000
    max_directory_size: int = 32 * MiB
    max_metadata_json: int = 256 * MiB
    max_day_json: int = 64 * MiB
    max_json_item: int = 8 * MiB


@dataclass(frozen=True, slots=True)
class Member:
    """A file of the archive, enough to stream it without the central directory: an SQS
    chunk carries it (`to_dict`), so a worker reads its day file with two ranged GETs."""

    name: str
    offset: int  # of its local header
    compressed_size: int
    size: int
    crc: int
    method: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "offset": self.offset,
            "compressedSize": self.compressed_size,
            "size": self.size,
            "crc": self.crc,
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Member:
        return cls(
            name=str(data["name"]),
            offset=int(data["offset"]),
            compressed_size=int(data["compressedSize"]),
            size=int(data["size"]),
            crc=int(data["crc"]),
            method=int(data["method"]),
        )


class RangedReader(io.RawIOBase):
    """A seekable, read-only file over `fetch(start, end)`, which returns the bytes
    `[start, end)` of an object of `size` bytes (for S3: `Range: bytes={start}-{end - 1}`).

    A read short of `read_ahead` fetches `read_ahead` bytes and serves the next reads from
    them, so zipfile's small reads (a 30-byte local header, 64 KiB of compressed data) cost
    one GET per `read_ahead`. `fetches` and `fetched_bytes` count what it asked for."""

    def __init__(
        self, fetch: Callable[[int, int], bytes], size: int, *, read_ahead: int = 1 * MiB
    ) -> None:
        super().__init__()
        if size < 0 or read_ahead < 1:
            raise ValueError("size must be >= 0 and read_ahead >= 1")
        self._fetch = fetch
        self._size = size
        self._read_ahead = read_ahead
        self._pos = 0
        self._buffer = b""
        self._buffer_start = 0
        self.fetches = 0
        self.fetched_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if target < 0:
            raise OSError(22, "negative seek position")  # as a file answers; zipfile expects it
        self._pos = target
        return target

    def read(self, size: int = -1, /) -> bytes:
        end = self._size if size < 0 else min(self._size, self._pos + size)
        out = bytearray()
        while self._pos < end:
            piece = bytearray(end - self._pos)
            out += piece[: self.readinto(piece)]
        return bytes(out)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._size - self._pos)
        if wanted <= 0:
            return 0
        start = self._pos - self._buffer_start
        if not 0 <= start < len(self._buffer):
            self._fill(wanted)
            start = 0
        count = min(wanted, len(self._buffer) - start)
        view[:count] = self._buffer[start : start + count]
        self._pos += count
        return count

    def _fill(self, wanted: int) -> None:
        end = min(self._size, self._pos + max(wanted, self._read_ahead))
        data = self._fetch(self._pos, end)
        self.fetches += 1
        self.fetched_bytes += len(data)
        if len(data) != end - self._pos:
            raise OSError(f"ranged read [{self._pos}, {end}) returned {len(data)} bytes")
        self._buffer, self._buffer_start = data, self._pos


def _decoded_name(raw: str, flags: int) -> str:
    """Slack writes UTF-8 names without the UTF-8 flag, which zipfile then decodes as cp437
    (Zulip's importer met this): such a name is taken back to its bytes and read as UTF-8."""
    if raw.isascii():  # nearly every name: nothing to decode again or normalize
        return raw
    name = raw
    if not flags & _UTF8_NAME:
        try:
            name = raw.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            name = raw
    return unicodedata.normalize("NFC", name)


_UNSAFE: tuple[tuple[Callable[[str, list[str]], bool], str], ...] = (
    (lambda name, _: "\x00" in name, "holds a NUL character"),
    (lambda name, _: "\\" in name, "holds a backslash"),
    (lambda name, _: name.startswith("/"), "is an absolute path"),
    (lambda name, _: bool(_DRIVE.match(name)), "starts with a drive letter"),
    (lambda _, parts: ".." in parts, "climbs out of the archive with '..'"),
    (lambda _, parts: "." in parts or "" in parts, "has an empty or '.' path component"),
)


_SUSPECT = re.compile(r"[\x00\\]|^/|^[A-Za-z]:|(?:^|/)\.{0,2}(?:/|$)")  # any of _UNSAFE


def _unsafe_name(name: str) -> str | None:
    """Why the name may not be read, or None."""
    if not _SUSPECT.search(name.removesuffix("/")):
        return None
    parts = name.removesuffix("/").split("/")
    return next((why for unsafe, why in _UNSAFE if unsafe(name, parts)), None)


def _check_end_record(file: Source, limits: Limits) -> None:
    """Bound the member count and the directory's size from the end of central directory
    record (and its zip64 form), before zipfile reads and builds the directory."""
    size = file.seek(0, io.SEEK_END)
    tail_start = max(0, size - (0xFFFF + 22))
    file.seek(tail_start)
    tail = file.read(size - tail_start)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ExportRefused("the upload is not a zip file (no end of central directory record)")
    _, disk, cd_disk, _, entries, cd_size, cd_offset, _ = struct.unpack(
        "<4s4H2LH", tail[at : at + 22]
    )
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        locator = tail[at - 20 : at] if at >= 20 else b""
        if not locator.startswith(b"PK\x06\x07"):
            raise ExportRefused("the zip's zip64 end record locator is missing")
        _, _, record_offset, _ = struct.unpack("<4sLQL", locator)
        file.seek(record_offset)
        record = file.read(56)
        if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
            raise ExportRefused("the zip's zip64 end of central directory record is missing")
        fields = struct.unpack("<4sQ2H2L4Q", record)
        disk, cd_disk, entries, cd_size = fields[4], fields[5], fields[7], fields[8]
    if disk != 0 or cd_disk != 0:
        raise ExportRefused("the zip spans several disks; upload it as one file")
    if entries > limits.max_members:
        raise ExportRefused(
            f"the zip has {entries:,} members; an export may have at most {limits.max_members:,}"
        )
    if cd_size > limits.max_directory_size:
        raise ExportRefused(
            f"the zip's central directory is {cd_size:,} bytes; at most "
            f"{limits.max_directory_size:,} are read"
        )


def _member(info: zipfile.ZipInfo, limits: Limits) -> Member:
    name = _decoded_name(info.orig_filename, info.flag_bits)
    why = _unsafe_name(name)
    if why is not None:
        raise ExportRefused(f"the member {name!r} {why}")
    if info.flag_bits & _ENCRYPTED:
        raise ExportRefused(f"the member {name} is encrypted")
    if info.compress_type not in (_STORED, _DEFLATED):
        raise ExportRefused(
            f"the member {name} uses compression method {info.compress_type}; "
            "only stored and deflate members are read"
        )
    ratio_base = max(info.compress_size, 1)
    if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * ratio_base:
        raise ExportRefused(
            f"the member {name} expands {info.file_size // ratio_base:,} to 1 "
            f"(at most {limits.max_ratio} to 1 is read): a zip bomb?"
        )
    return Member(
        name=name,
        offset=info.header_offset,
        compressed_size=info.compress_size,
        size=info.file_size,
        crc=info.CRC,
        method=info.compress_type,
    )


class Archive:
    """The members of a zip, listed and checked on opening; directories are left out."""

    def __init__(self, file: Source, limits: Limits | None = None) -> None:
        self.file = file
        self.limits = limits or Limits()
        _check_end_record(file, self.limits)
        try:
            with zipfile.ZipFile(file) as zipped:
                infos = zipped.infolist()
        except UnicodeDecodeError:
            raise ExportRefused("a member's name is marked UTF-8 but is not") from None
        except (zipfile.BadZipFile, EOFError, NotImplementedError, struct.error) as error:
            raise ExportRefused(f"the upload is not a readable zip file ({error})") from None
        if len(infos) > self.limits.max_members:
            raise ExportRefused(
                f"the zip has {len(infos):,} members; an export may have at most "
                f"{self.limits.max_members:,}"
            )
        members: dict[str, Member] = {}
        total = 0
        for info in infos:
            member = _member(info, self.limits)
            if member.name in members:
                raise ExportRefused(f"the zip holds two members named {member.name}")
            total += member.size
            if total > self.limits.max_total_size:
                raise ExportRefused(
                    f"the export unpacks to more than {self.limits.max_total_size:,} bytes "
                    f"(reached at {member.name})"
                )
            if not member.name.endswith("/"):
                members[member.name] = member
        self.members = members

    def iter_bytes(self, member: Member, cap: int) -> Iterator[bytes]:
        return iter_member_bytes(self.file, member, cap)

    def read_json_array(self, member: Member, cap: int) -> Iterator[Any]:
        return iter_json_array(
            iter_member_bytes(self.file, member, cap), member.name, self.limits.max_json_item
        )


def _local_data_offset(file: Source, member: Member) -> int:
    file.seek(member.offset)
    header = file.read(30)
    if len(header) < 30 or not header.startswith(b"PK\x03\x04"):
        raise ExportRefused(f"the member {member.name} has no local header at its offset")
    flags, name_length, extra_length = (
        struct.unpack("<H", header[6:8])[0],
        *struct.unpack("<2H", header[26:30]),
    )
    if flags & _ENCRYPTED:
        raise ExportRefused(f"the member {member.name} is encrypted")
    raw_name = file.read(name_length)
    try:
        local_name = _decoded_name(
            raw_name.decode("utf-8" if flags & _UTF8_NAME else "cp437"), flags
        )
    except UnicodeDecodeError:
        local_name = repr(raw_name)
    if local_name != member.name:
        raise ExportRefused(
            f"the member {member.name}'s local header names it {local_name!r}: "
            "the zip's two name records disagree"
        )
    return member.offset + 30 + name_length + extra_length


def _compressed(file: Source, member: Member, start: int) -> Iterator[bytes]:
    """The member's stored bytes, from its own position each time (so two members may be
    streamed from one file at once)."""
    at, left = start, member.compressed_size
    while left:
        file.seek(at)
        piece = file.read(min(_READ_SIZE, left))
        if not piece:
            raise ExportRefused(f"the member {member.name} is cut short")
        at, left = at + len(piece), left - len(piece)
        yield piece


def _inflated(pieces: Iterator[bytes], member: Member) -> Iterator[bytes]:
    """Uncompressed pieces of at most 64 KiB each, however much one compressed piece holds
    (64 KiB of deflate can inflate to 64 MiB)."""
    if member.method == _STORED:
        yield from pieces
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    for piece in pieces:
        pending = piece
        while True:  # until this piece is taken and the inflater has nothing more to give
            if inflater.eof and pending:
                raise ExportRefused(f"the member {member.name} has data past its end")
            try:
                out = inflater.decompress(pending, _READ_SIZE)
            except zlib.error as error:
                raise ExportRefused(f"the member {member.name} is corrupt ({error})") from None
            pending = inflater.unconsumed_tail or inflater.unused_data
            if out:
                yield out
            if not pending and len(out) < _READ_SIZE:
                break
    if not inflater.eof:
        raise ExportRefused(f"the member {member.name} is cut short")


def iter_member_bytes(file: Source, member: Member, cap: int) -> Iterator[bytes]:
    """The member's uncompressed bytes, in pieces of at most 64 KiB. Its entry's size is not
    trusted: inflating stops one piece past it (and so before `cap`), and a member holding
    more, or less, or failing its CRC, is refused."""
    if member.size > cap:
        raise ExportRefused(f"the member {member.name} is {member.size:,} bytes; at most {cap:,}")
    if member.method not in (_STORED, _DEFLATED):
        raise ExportRefused(f"the member {member.name} uses compression method {member.method}")
    start = _local_data_offset(file, member)
    produced, crc = 0, 0
    for piece in _inflated(_compressed(file, member, start), member):
        produced += len(piece)
        if produced > member.size:
            raise ExportRefused(
                f"the member {member.name} holds more than the {member.size:,} bytes "
                "its header declares"
            )
        crc = zlib.crc32(piece, crc)
        yield piece
    if produced != member.size:
        raise ExportRefused(
            f"the member {member.name} holds {produced:,} bytes; its header declares "
            f"{member.size:,}"
        )
    if crc != member.crc:
        raise ExportRefused(f"the member {member.name} fails its CRC check")


class _Constant(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class _JsonArray:
    """Elements of a JSON array decoded one at a time from a stream of UTF-8 pieces."""

    def __init__(self, pieces: Iterator[bytes], name: str, max_item: int) -> None:
        self._pieces = pieces
        self._name = name
        self._max_item = max_item
        self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self._bytes_in = 0
        self._text = ""
        self._at = 0
        self._eof = False

    def _refuse(self, why: str) -> ExportRefused:
        return ExportRefused(f"{self._name} {why}")

    def _more(self, at_least: int = 1) -> bool:
        """Append at least `at_least` characters (or whatever is left); False at the end."""
        added = 0
        while not self._eof and added < at_least:
            piece = next(self._pieces, None)
            final = piece is None
            try:
                text = self._utf8.decode(piece or b"", final=final)
            except UnicodeDecodeError as error:
                offset = self._bytes_in + error.start
                raise self._refuse(f"is not valid UTF-8 (at byte {offset:,})") from None
            self._bytes_in += len(piece or b"")
            self._eof = final
            if self._at > MiB:  # drop what was decoded, so the text stays one element long
                self._text, self._at = self._text[self._at :], 0
            self._text += text
            added += len(text)
        return added > 0

    def _skip_whitespace(self) -> str:
        """The next significant character ("" at the end), left unconsumed."""
        while True:
            match = _WHITESPACE.match(self._text, self._at)
            self._at = match.end() if match else self._at
            if self._at < len(self._text):
                return self._text[self._at]
            if not self._more():
                return ""

    def _check_length(self, length: int) -> None:
        if length > self._max_item:
            raise self._refuse(f"holds an element of over {self._max_item:,} characters")

    def _element(self) -> Any:
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._at)
            except json.JSONDecodeError as error:
                if self._eof:
                    raise self._refuse(
                        f"is not valid JSON ({error.msg} at {error.pos:,})"
                    ) from None
            except _Constant as constant:
                raise self._refuse(f"holds {constant}, which JSON does not allow") from None
            except RecursionError:
                raise self._refuse("is nested too deeply") from None
            except ValueError as error:  # an integer of over 4,300 digits
                raise self._refuse(f"is not valid JSON ({error})") from None
            else:
                if end < len(self._text) or self._eof:  # a number may go on in the next piece
                    self._check_length(end - self._at)
                    self._at = end
                    return value
            pending = len(self._text) - self._at
            self._check_length(pending)
            self._more(max(pending, _READ_SIZE))  # doubling: a long element costs linear time

    def __iter__(self) -> Iterator[Any]:
        self._more()
        if self._text.startswith("\ufeff"):
            self._at = 1
        if self._skip_whitespace() != "[":
            raise self._refuse("is not a JSON array")
        self._at += 1
        if self._skip_whitespace() == "]":
            self._at += 1
        else:
            while True:
                yield self._element()
                mark = self._skip_whitespace()
                self._at += 1
                if mark == "]":
                    break
                if mark == "":
                    raise self._refuse("is cut short (its array is not closed)")
                if mark != ",":
                    raise self._refuse("is not valid JSON (expected ',' or ']' in its array)")
                self._skip_whitespace()
        if self._skip_whitespace() != "":
            raise self._refuse("has data after its JSON array")


def iter_json_array(pieces: Iterator[bytes], name: str, max_item: int) -> Iterator[Any]:
    """The elements of the JSON array in `pieces` (UTF-8, strictly), one at a time: only one
    element's text is held at once, and none may exceed `max_item` characters."""
    return iter(_JsonArray(pieces, name, max_item))
