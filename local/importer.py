"""Import a Slack export into a Parley workspace, through the public API only (API.md,
"Importing from Slack"): create the import, upload the zip with its presigned POST, start
it, follow it to the end, print its counts and its first errors.

Against `make up` it reads `.local/stack.json` and logs in as a demo user, as the terminal
client does; against a deployed stack it takes the HTTP API's URL and a token:

    make import ARGS="--workspace WID --file export.zip --user alice"
    python -m local.importer --file export.zip        # as alice, into the demo workspace
    python -m local.importer --api-url https://... --token "$JWT" --workspace W --file x.zip

The caller must be an admin of the workspace. The zip is streamed from disk (never held in
memory); progress goes to stderr (a bar on a terminal, a line every few seconds otherwise),
the result to stdout. Ctrl-C stops following, not the import: it goes on on the server.

Exit status: 0 when the import is done, 1 when it failed (its reason on stderr) or anything
else went wrong, 2 on a timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TextIO

import requests

from local.client import DEFAULT_STACK_FILE, ClientError, HttpApi, identity, load_stack, login

POLL_SECONDS = 1.0
FIRST_ERRORS = 10
UPLOAD_TIMEOUT_S = (30.0, 300.0)  # connect (and each send), then the answer once all is sent
FINISHED = frozenset({"done", "failed"})
COUNTS = ("users", "channels", "messages", "replies", "reactions", "files")


# ------------------------------------------------------------------ the upload's body


def _quote(value: str) -> str:
    """A header parameter as browsers and urllib3 write it (WHATWG): CR, LF, `"` escaped."""
    return value.replace("\n", "%0A").replace("\r", "%0D").replace('"', "%22")


class MultipartForm:
    """A multipart/form-data body of text fields and one file, read from its file a block at
    a time: `requests` sends it with a Content-Length (S3's POST takes no chunked body) and
    never holds more than a block of the file. The file part comes last, as S3 requires.
    `on_read(sent)` hears of each block with the bytes of the body read so far."""

    def __init__(
        self,
        fields: Mapping[str, str],
        file: BinaryIO,
        file_size: int,
        *,
        filename: str,
        content_type: str = "application/zip",
        file_field: str = "file",
        boundary: str | None = None,
        on_read: Callable[[int], None] | None = None,
    ) -> None:
        self.boundary = boundary or uuid.uuid4().hex
        head = b"".join(
            self._part_header(f'name="{_quote(name)}"') + str(value).encode() + b"\r\n"
            for name, value in fields.items()
        )
        head += self._part_header(
            f'name="{_quote(file_field)}"; filename="{_quote(filename)}"',
            f"Content-Type: {content_type}\r\n",
        )
        self._head = head
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._file = file
        self._file_left = file_size
        self._length = len(head) + file_size + len(self._tail)
        self._segment = 0  # 0: the head, 1: the file, 2: the tail, 3: nothing
        self._offset = 0  # within the head or the tail
        self._sent = 0
        self._on_read = on_read

    def _part_header(self, disposition: str, extra: str = "") -> bytes:
        return (
            f"--{self.boundary}\r\nContent-Disposition: form-data; {disposition}\r\n{extra}\r\n"
        ).encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes of the body (all that is left for -1); b"" at its end."""
        limit = self._length - self._sent if size is None or size < 0 else size
        pieces: list[bytes] = []
        got = 0
        while got < limit and self._segment < 3:
            piece = self._next_piece(limit - got)
            if piece:
                pieces.append(piece)
                got += len(piece)
        data = b"".join(pieces)
        self._sent += len(data)
        if data and self._on_read is not None:
            self._on_read(self._sent)
        return data

    def _next_piece(self, wanted: int) -> bytes:
        if self._segment == 1:
            if self._file_left == 0:
                self._segment = 2
                return b""
            piece = self._file.read(min(wanted, self._file_left))
            if not piece:
                raise ClientError(f"the file ended {self._file_left} bytes early: did it change?")
            self._file_left -= len(piece)
            return piece
        fixed = self._head if self._segment == 0 else self._tail
        piece = fixed[self._offset : self._offset + wanted]
        self._offset += len(piece)
        if self._offset >= len(fixed):
            self._segment += 1
            self._offset = 0
        return piece


# ------------------------------------------------------------------ progress


def human_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def bar_line(label: str, done: int, total: int | None, note: str = "", width: int = 30) -> str:
    """One line of progress: a bar and its percentage when the total is known, else only
    the label; then the note."""
    if total:
        fraction = min(max(done / total, 0.0), 1.0)
        filled = int(fraction * width)
        bar = (
            f"[{'#' * filled}{'-' * (width - filled)}] {int(fraction * 100):3d}%"  # 100 at the end
        )
        return f"{label} {bar}  {note}".rstrip()
    return f"{label}  {note}".rstrip()


class ProgressBar:
    """Progress on a stream: on a terminal, one line redrawn at most every `tty_interval`;
    elsewhere (a log, CI) a new line at most every `log_interval`. The last state is always
    shown by `close`."""

    def __init__(
        self,
        stream: TextIO,
        label: str,
        *,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        tty_interval: float = 0.1,
        log_interval: float = 5.0,
        width: int = 30,
    ) -> None:
        self._stream = stream
        self._label = label
        self._tty = stream.isatty() if tty is None else tty
        self._clock = clock
        self._interval = tty_interval if self._tty else log_interval
        self._width = width
        self._shown_at: float | None = None
        self._shown = ""
        self._latest = ""

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        self._latest = bar_line(self._label, done, total, note, self._width)
        now = self._clock()
        if self._shown_at is None or now - self._shown_at >= self._interval:
            self._show(self._latest)
            self._shown_at = now

    def close(self) -> None:
        if self._latest and self._latest != self._shown:
            self._show(self._latest)
        if self._tty and self._shown:
            self._stream.write("\n")
        self._stream.flush()

    def _show(self, line: str) -> None:
        if self._tty:  # pad over what a longer line left behind
            self._stream.write("\r" + line.ljust(len(self._shown)))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
        self._shown = line


class Progress(Protocol):
    def update(self, done: int, total: int | None = None, note: str = "") -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """`--no-progress`: nothing on stderr but errors."""

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        pass

    def close(self) -> None:
        pass


def upload_note(sent: int, total: int) -> str:
    return f"{human_bytes(sent)} of {human_bytes(total)}"


def counts_text(counts: Mapping[str, Any]) -> str:
    """`12 users, 3 channels, ...`: the contract's counts in its order, then any others."""
    names = [*COUNTS, *sorted(k for k in counts if k not in COUNTS)]
    return ", ".join(f"{int(counts.get(name) or 0):,} {name}" for name in names)


def import_progress(record: Mapping[str, Any]) -> tuple[int, int | None, str]:
    """(done, total, note) of a running import: chunks done of their total when the import
    reports them, with the messages and replies written so far."""
    counts = record.get("counts") or {}
    written = int(counts.get("messages") or 0) + int(counts.get("replies") or 0)
    note = f"{record.get('status', '?')}, {written:,} messages"
    chunks = record.get("chunks")
    if isinstance(chunks, Mapping) and chunks.get("total"):
        done, total = int(chunks.get("done") or 0), int(chunks["total"])
        return done, total, f"{done:,} of {total:,} chunks, {note}"
    return written, None, note


def error_text(error: Any) -> str:
    """An entry of the import's `errors` on one line, whatever its shape."""
    if isinstance(error, Mapping):
        where = error.get("chunk") or error.get("file") or error.get("where")
        what = error.get("reason") or error.get("message") or error.get("code") or dict(error)
        return f"{where}: {what}" if where else str(what)
    return str(error)


def failure_reason(record: Mapping[str, Any]) -> str:
    for key in ("reason", "error", "failure"):
        if record.get(key):
            return error_text(record[key])
    errors = record.get("errors") or []
    return error_text(errors[0]) if errors else "no reason given"


def summary(record: Mapping[str, Any], first: int = FIRST_ERRORS) -> list[str]:
    """What the person reads at the end: the outcome and counts, then the first errors."""
    counts = counts_text(record.get("counts") or {})
    lines = [f"import {record.get('id')} {record.get('status')}: {counts}"]
    errors = list(record.get("errors") or [])
    if errors:
        shown = errors[:first]
        more = f", the first {len(shown)}" if len(errors) > len(shown) else ""
        lines.append(f"{len(errors)} error{'s' if len(errors) != 1 else ''}{more}:")
        lines.extend(f"  {error_text(error)}" for error in shown)
    return lines


# ------------------------------------------------------------------ the public API


class ImportApi(HttpApi):
    """The terminal client's HTTP API with the import routes."""

    def create_import(self, workspace_id: str, name: str, size: int) -> dict[str, Any]:
        body = {"name": name, "size": size}
        created: dict[str, Any] = self._call("POST", f"/workspaces/{workspace_id}/imports", body)
        return created

    def start_import(self, import_id: str) -> dict[str, Any]:
        started: dict[str, Any] = self._call("POST", f"/imports/{import_id}/start")["import"]
        return started

    def get_import(self, import_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._call("GET", f"/imports/{import_id}")["import"]
        return found


_S3_ERROR = re.compile(r"<(Code|Message)>([^<]*)</\1>")


def upload(form: Mapping[str, Any], path: Path, progress: Progress) -> None:
    """POST the file to S3 with the presigned form, streamed from disk."""
    size = path.stat().st_size
    fields = {str(k): str(v) for k, v in (form.get("fields") or {}).items()}
    with path.open("rb") as file:
        body = MultipartForm(
            fields,
            file,
            size,
            filename=path.name,
            content_type=fields.get("Content-Type", "application/zip"),
            on_read=lambda sent: progress.update(sent, len(body), upload_note(sent, len(body))),
        )
        try:
            reply = requests.post(
                form["url"],
                data=body,
                headers={"Content-Type": body.content_type},
                timeout=UPLOAD_TIMEOUT_S,
            )
        except requests.RequestException as error:
            raise ClientError(f"the upload failed: {error}") from error
        finally:
            progress.close()
    if reply.status_code >= 300:
        found = dict(_S3_ERROR.findall(reply.text))
        detail = ": ".join(v for v in (found.get("Code"), found.get("Message")) if v)
        raise ClientError(f"the upload was refused ({reply.status_code}) {detail}".rstrip())


def follow(
    api: ImportApi,
    import_id: str,
    progress: Progress,
    *,
    interval: float = POLL_SECONDS,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """GET the import until it is done or failed; the last record."""
    deadline = None if timeout is None else clock() + timeout
    try:
        while True:
            record = api.get_import(import_id)
            progress.update(*import_progress(record))
            if record.get("status") in FINISHED:
                return record
            if deadline is not None and clock() > deadline:
                raise TimeoutError
            sleep(interval)
    finally:
        progress.close()


@dataclass(frozen=True)
class Endpoint:
    http_url: str
    token: str
    workspace_id: str


def endpoint(args: argparse.Namespace) -> Endpoint:
    """Where to send the import and as whom: `--api-url` and `--token`, or the stack file's
    Cognito and a (demo) user's login."""
    if args.api_url:
        if not args.workspace:
            raise ClientError("--api-url needs --workspace")
        return Endpoint(args.api_url.rstrip("/"), args.token, args.workspace)
    stack = load_stack(args.stack)
    who = identity(stack, args)
    return Endpoint(stack.http_url, login(stack, who.user, who.password), who.workspace_id)


def checked_file(path: Path) -> int:
    """The file's size, once it is known to be a zip (a wrong file is told before the
    upload, not after it)."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ClientError(f"{path}: {error.strerror}") from error
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise ClientError(f"{path} is not a zip: give the zip of Slack's workspace export")
    return size


@dataclass
class Attempt:
    import_id: str | None = None
    started: bool = False


def run_import(
    api: ImportApi,
    workspace_id: str,
    path: Path,
    *,
    progress: Callable[[str], Progress],
    interval: float = POLL_SECONDS,
    timeout: float | None = None,
    attempt: Attempt | None = None,
) -> dict[str, Any]:
    """The whole import of one file; its last record (done or failed). `attempt` tells a
    caller interrupted half-way how far it came."""
    attempt = attempt or Attempt()
    size = checked_file(path)
    created = api.create_import(workspace_id, path.name, size)
    attempt.import_id = str(created["import"]["id"])
    upload(created["upload"], path, progress("upload"))
    api.start_import(attempt.import_id)
    attempt.started = True
    return follow(api, attempt.import_id, progress("import"), interval=interval, timeout=timeout)


# ------------------------------------------------------------------ command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.importer",
        description="Import a Slack export (its zip) into a Parley workspace.",
    )
    parser.add_argument("--file", type=Path, required=True, help="the export's zip")
    parser.add_argument("--workspace", help="workspace id (default: the demo workspace)")
    local = parser.add_argument_group("a local stack (make up)")
    local.add_argument("--stack", type=Path, default=DEFAULT_STACK_FILE, help="stack file")
    local.add_argument("--user", help="an admin to log in as (default: the first demo user)")
    local.add_argument("--password", help="default: the demo password in the stack file")
    deployed = parser.add_argument_group("a deployed stack")
    deployed.add_argument("--api-url", help="the stack's HttpApiUrl")
    deployed.add_argument(
        "--token",
        default=os.environ.get("PARLEY_TOKEN"),
        help="an admin's ID or access token (default: $PARLEY_TOKEN)",
    )
    parser.add_argument(
        "--interval", type=float, default=POLL_SECONDS, help="seconds between status reads"
    )
    parser.add_argument(
        "--timeout", type=float, help="seconds to follow the import (default: no limit)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    if args.api_url and not args.token:
        parser.error("--api-url needs --token (or $PARLEY_TOKEN)")
    if args.interval <= 0:
        parser.error("--interval must be more than 0")
    return args


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parse_args(argv)
    attempt = Attempt()

    def progress(label: str) -> Progress:
        return NoProgress() if args.no_progress else ProgressBar(sys.stderr, label)

    try:
        where = endpoint(args)
        api = ImportApi(where.http_url, where.token)
        record = run_import(
            api,
            where.workspace_id,
            args.file,
            progress=progress,
            interval=args.interval,
            timeout=args.timeout,
            attempt=attempt,
        )
    except ClientError as error:
        print(f"parley import: {error}", file=sys.stderr)
        return 1
    except TimeoutError:
        print(
            f"parley import: {attempt.import_id} still runs after {args.timeout:g} s; "
            f"GET /imports/{attempt.import_id} follows it",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        if attempt.started:
            print(f"\nparley import: {attempt.import_id} goes on on the server", file=sys.stderr)
        elif attempt.import_id:
            print(f"\nparley import: {attempt.import_id} was not started", file=sys.stderr)
        return 1
    for line in summary(record):
        print(line, file=out)
    if record.get("status") == "failed":
        print(f"parley import: failed: {failure_reason(record)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
