"""The import command's pure parts: the streamed multipart body, the progress bar, the
status lines, and the whole run against an API and an upload in memory (no sockets)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from urllib3 import encode_multipart_formdata

from local import importer
from local.client import ClientError
from local.importer import (
    Attempt,
    MultipartForm,
    NoProgress,
    ProgressBar,
    bar_line,
    counts_text,
    failure_reason,
    follow,
    human_bytes,
    import_progress,
    parse_args,
    run_import,
    summary,
)

FIELDS = {
    "key": "imports/W1/I1/export.zip",
    "Content-Type": "application/zip",
    "policy": "eyJjb25kaXRpb25zIjpbXX0=",
    "x-amz-signature": "abc123",
}
PAYLOAD = bytes(range(256)) * 1000  # 256,000 bytes, every byte value


class RecordingFile(io.BytesIO):
    """A file that remembers the size of every read asked of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)


def _form(
    data: bytes = PAYLOAD, *, filename: str = "export.zip", **kwargs: Any
) -> tuple[MultipartForm, RecordingFile]:
    file = RecordingFile(data)
    form = MultipartForm(FIELDS, file, len(data), filename=filename, boundary="b0undary", **kwargs)
    return form, file


def _read_all(form: MultipartForm, block: int) -> bytes:
    pieces = []
    while piece := form.read(block):
        assert len(piece) <= block
        pieces.append(piece)
    return b"".join(pieces)


# ---------------------------------------------------------------- the multipart body


@pytest.mark.parametrize("filename", ["export.zip", 'Slack "Acme" export\r\n.zip', "été.zip"])
def test_the_body_is_the_form_urllib3_would_encode(filename: str) -> None:
    form, _ = _form(filename=filename)
    expected, content_type = encode_multipart_formdata(
        [*FIELDS.items(), ("file", (filename, PAYLOAD, "application/zip"))], boundary="b0undary"
    )
    assert _read_all(form, 8192) == expected
    assert form.content_type == content_type
    assert len(form) == len(expected)


def test_the_file_is_read_a_block_at_a_time_never_whole() -> None:
    form, file = _form()
    _read_all(form, 16384)
    assert file.asked, "the file was never read"
    assert max(file.asked) <= 16384
    assert -1 not in file.asked


@pytest.mark.parametrize("block", [1, 7, 100, 4096, 1 << 20])
def test_any_block_size_reads_the_same_body(block: int) -> None:
    whole, _ = _form()
    in_blocks, _ = _form()
    assert _read_all(in_blocks, block) == whole.read()


def test_the_file_part_is_last_as_s3_requires() -> None:
    body = _form()[0].read()
    positions = [body.index(f'name="{name}"'.encode()) for name in [*FIELDS, "file"]]
    assert positions == sorted(positions)
    assert body.endswith(PAYLOAD + b"\r\n--b0undary--\r\n")


def test_progress_hears_the_bytes_read_so_far_up_to_the_whole_body() -> None:
    heard: list[int] = []
    form, _ = _form(on_read=heard.append)
    _read_all(form, 50_000)
    assert heard == sorted(heard)
    assert heard[-1] == len(form)
    assert form.read(10) == b""
    assert heard[-1] == len(form)  # the end is not announced twice


def test_a_file_shorter_than_declared_is_an_error_not_a_short_body() -> None:
    file = io.BytesIO(b"x" * 10)
    form = MultipartForm({}, file, 20, filename="a.zip")
    with pytest.raises(ClientError, match="10 bytes early"):
        form.read()


def test_an_empty_file_still_makes_a_whole_form() -> None:
    form = MultipartForm({}, io.BytesIO(b""), 0, filename="a.zip", boundary="b")
    assert form.read() == (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n'
        b"Content-Type: application/zip\r\n\r\n\r\n--b--\r\n"
    )


# ---------------------------------------------------------------- progress


def test_a_bar_fills_with_the_fraction_done() -> None:
    assert bar_line("upload", 0, 200, width=10) == "upload [----------]   0%"
    assert bar_line("upload", 100, 200, "1 of 2", width=10) == "upload [#####-----]  50%  1 of 2"
    assert bar_line("upload", 199, 200, width=10) == "upload [#########-]  99%"
    assert bar_line("upload", 250, 200, width=10) == "upload [##########] 100%"


def test_without_a_total_the_line_has_no_bar() -> None:
    assert bar_line("import", 40, None, "running, 40 messages") == "import  running, 40 messages"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_on_a_terminal_the_line_is_redrawn_at_most_every_interval_and_ends_with_a_newline() -> None:
    out, clock = io.StringIO(), Clock()
    bar = ProgressBar(out, "up", tty=True, clock=clock, tty_interval=0.1, width=4)
    bar.update(0, 4, "a long first note")
    clock.now = 0.05
    bar.update(2, 4, "skipped")  # within the interval
    clock.now = 0.2
    bar.update(3, 4, "short")
    bar.update(4, 4, "end")  # within the interval: left for close
    bar.close()
    first = "up [----]   0%  a long first note"
    third = "up [###-]  75%  short"
    assert out.getvalue() == (
        f"\r{first}\r{third.ljust(len(first))}\r{'up [####] 100%  end'.ljust(len(third))}\n"
    )


def test_in_a_log_the_bar_writes_a_line_every_interval_and_the_last_state() -> None:
    out, clock = io.StringIO(), Clock()
    bar = ProgressBar(out, "import", tty=False, clock=clock, log_interval=5)
    for second in range(12):
        clock.now = second
        bar.update(second, None, f"{second} messages")
    bar.close()
    assert out.getvalue().splitlines() == [
        "import  0 messages",
        "import  5 messages",
        "import  10 messages",
        "import  11 messages",
    ]


def test_closing_a_bar_shown_up_to_date_adds_nothing_in_a_log() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, "x", tty=False, clock=Clock())
    bar.update(1, 1)
    bar.close()
    assert out.getvalue() == "x [##############################] 100%\n"


def test_sizes_read_as_people_write_them() -> None:
    assert [human_bytes(n) for n in (0, 1023, 1024, 5 * 1024**2 + 1024**2 // 2, 6 * 1024**4)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "5.5 MiB",
        "6144.0 GiB",
    ]


# ---------------------------------------------------------------- the import's status


def test_progress_counts_chunks_when_the_import_reports_them() -> None:
    record = {
        "status": "running",
        "counts": {"messages": 1200, "replies": 34},
        "chunks": {"done": 3, "total": 12},
    }
    assert import_progress(record) == (3, 12, "3 of 12 chunks, running, 1,234 messages")


def test_progress_counts_messages_when_the_import_reports_no_chunks() -> None:
    record = {"status": "pending", "counts": {"messages": 5, "replies": 2}}
    assert import_progress(record) == (7, None, "pending, 7 messages")
    assert import_progress({"status": "pending"}) == (0, None, "pending, 0 messages")


def test_counts_are_in_the_contracts_order_then_any_others() -> None:
    counts = {"files": 2, "messages": 1500, "users": 3, "bots": 1}
    assert counts_text(counts) == (
        "3 users, 0 channels, 1,500 messages, 0 replies, 0 reactions, 2 files, 1 bots"
    )


def test_the_summary_shows_the_first_errors_and_how_many_there_were() -> None:
    record = {
        "id": "I1",
        "status": "done",
        "counts": {"messages": 1},
        "errors": [{"chunk": f"C1/2024-01-{d:02d}", "reason": "no ts"} for d in range(1, 13)],
    }
    lines = summary(record, first=2)
    assert lines == [
        "import I1 done: 0 users, 0 channels, 1 messages, 0 replies, 0 reactions, 0 files",
        "12 errors, the first 2:",
        "  C1/2024-01-01: no ts",
        "  C1/2024-01-02: no ts",
    ]
    assert summary({"id": "I2", "status": "done", "errors": ["bad"]})[1:] == ["1 error:", "  bad"]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"reason": "users.json is missing"}, "users.json is missing"),
        ({"error": {"code": "zip_bomb", "message": "ratio 1000:1"}}, "ratio 1000:1"),
        ({"errors": [{"file": "../x.json", "reason": "unsafe name"}]}, "../x.json: unsafe name"),
        ({}, "no reason given"),
    ],
)
def test_a_failures_reason_is_found_wherever_the_import_puts_it(
    record: dict[str, Any], reason: str
) -> None:
    assert failure_reason({"status": "failed", **record}) == reason


# ---------------------------------------------------------------- a whole run, in memory


class FakeApi:
    """The import routes as the contract answers them; the import runs as it is read."""

    def __init__(self, statuses: list[dict[str, Any]]) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._statuses: Iterator[dict[str, Any]] = iter(statuses)

    def create_import(self, workspace_id: str, name: str, size: int) -> dict[str, Any]:
        self.calls.append(("create", (workspace_id, name, size)))
        return {
            "import": {"id": "I1", "status": "pending"},
            "upload": {"url": "https://s3.example/bucket", "fields": FIELDS, "expiresAt": "z"},
        }

    def start_import(self, import_id: str) -> dict[str, Any]:
        self.calls.append(("start", import_id))
        return {"id": import_id, "status": "pending"}

    def get_import(self, import_id: str) -> dict[str, Any]:
        self.calls.append(("get", import_id))
        return {"id": import_id, **next(self._statuses)}


class FakeReply:
    def __init__(self, status_code: int, text: str = "") -> None:
        self.status_code, self.text = status_code, text


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "acme export.zip"
    with zipfile.ZipFile(path, "w") as zipped:
        zipped.writestr("users.json", "[]")
        zipped.writestr("channels.json", "[]")
    return path


@pytest.fixture
def posted(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the upload sent: read from the body a block at a time, as urllib3 reads it."""
    sent: list[dict[str, Any]] = []

    def post(url: str, *, data: MultipartForm, headers: dict[str, str], timeout: Any) -> Any:
        declared = len(data)
        sent.append({"url": url, "headers": headers, "body": _read_all(data, 16384)})
        sent[-1]["declared"] = declared
        return FakeReply(sent[-1].pop("status", 204))

    monkeypatch.setattr(importer.requests, "post", post)
    return sent


def _run(api: Any, path: Path, **kwargs: Any) -> dict[str, Any]:
    return run_import(
        api,
        "W1",
        path,
        progress=lambda _label: NoProgress(),
        interval=0.0,
        **kwargs,
    )


def test_a_run_creates_uploads_starts_and_follows_the_import_to_done(
    export: Path, posted: list[dict[str, Any]]
) -> None:
    api = FakeApi(
        [
            {"status": "pending"},
            {"status": "running", "counts": {"messages": 3}},
            {"status": "done", "counts": {"messages": 9}, "errors": []},
        ]
    )
    attempt = Attempt()
    record = _run(api, export, attempt=attempt)
    assert record["status"] == "done"
    size = export.stat().st_size
    assert api.calls == [
        ("create", ("W1", "acme export.zip", size)),
        ("start", "I1"),
        ("get", "I1"),
        ("get", "I1"),
        ("get", "I1"),
    ]
    (upload,) = posted
    assert upload["url"] == "https://s3.example/bucket"
    assert upload["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert upload["declared"] == len(upload["body"])
    assert upload["body"].count(export.read_bytes()) == 1
    assert (attempt.import_id, attempt.started) == ("I1", True)


def test_a_file_that_is_not_a_zip_is_refused_before_anything_is_created(
    tmp_path: Path, posted: list[dict[str, Any]]
) -> None:
    path = tmp_path / "export.tar.gz"
    path.write_bytes(b"\x1f\x8b not a zip")
    api = FakeApi([])
    with pytest.raises(ClientError, match="not a zip"):
        _run(api, path)
    with pytest.raises(ClientError, match="No such file"):
        _run(api, tmp_path / "missing.zip")
    assert api.calls == []
    assert posted == []


def test_a_refused_upload_says_what_s3_said_and_starts_nothing(
    export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_says = (
        "<?xml version='1.0'?><Error><Code>EntityTooLarge</Code>"
        "<Message>Your proposed upload exceeds the maximum allowed size</Message></Error>"
    )

    def post(url: str, *, data: MultipartForm, **_: Any) -> FakeReply:
        _read_all(data, 65536)
        return FakeReply(400, s3_says)

    monkeypatch.setattr(importer.requests, "post", post)
    api = FakeApi([])
    with pytest.raises(ClientError, match=r"400.*EntityTooLarge: Your proposed upload exceeds"):
        _run(api, export)
    assert [call for call, _ in api.calls] == ["create"]


def test_following_gives_up_after_the_timeout() -> None:
    clock = Clock()

    def sleep(seconds: float) -> None:
        clock.now += seconds

    api: Any = FakeApi([{"status": "running"}] * 100)
    with pytest.raises(TimeoutError):
        follow(api, "I1", NoProgress(), interval=1.0, timeout=5.0, sleep=sleep, clock=clock)
    assert len(api.calls) == 7  # at 0, 1, ..., 6 s: the read past the deadline ends it


def test_a_failed_import_exits_1_with_its_reason(
    export: Path,
    posted: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = FakeApi([{"status": "failed", "reason": "users.json is missing", "counts": {}}])
    monkeypatch.setattr(importer, "ImportApi", lambda url, token: api)
    argv = ["--api-url", "https://api.example/", "--token", "t", "--workspace", "W1"]
    code = importer.main([*argv, "--file", str(export), "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.startswith("import I1 failed: 0 users")
    assert "failed: users.json is missing" in err


def test_a_deployed_stack_needs_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARLEY_TOKEN", raising=False)
    with pytest.raises(SystemExit):
        parse_args(["--file", "x.zip", "--api-url", "https://api.example"])
