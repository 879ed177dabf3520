"""The benchmarks run end to end in a tiny configuration, so that they cannot rot unnoticed,
and write bench/results/latest.json's keys. The figures themselves are `make bench`'s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import coldstart, retention, web

ROOT = Path(__file__).resolve().parents[2]

# The keys that issue 9 promises readers of latest.json (more may be added).
COLD_START_FUNCTION_KEYS = {"importMs", "ratio", "peakRssMb", "packageMb"}
FANOUT_ROW_KEYS = {"members", "workspaceConnections", "ddbRequests", "ms", "scanBaselineRequests"}
COST_KEYS = {"usdPerMillionMessages", "breakdown"}
SLACK_KEYS = {"postMessageMs", "nativePostMs", "ratio"}  # issue 19's benchmark row
WEB_KEYS = {"bundleGzipKb", "bundleKb", "targetGzipKb", "pass", "files"}  # issue 22's
RETENTION_KEYS = {"deleted", "perS", "baselinePerS", "ratio"}  # issue 24's, point 9


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One tiny run of every benchmark that needs no sockets (delivery is an integration
    test); in its own interpreter, because the fan-out brings its own moto."""
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    only = [
        *("--only", "coldStart", "--only", "fanout", "--only", "cost", "--only", "slack"),
        *("--only", "web", "--only", "retention"),
    ]
    finished = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench", "--tiny", *only, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "| function |" in finished.stdout  # the markdown tables reach the terminal
    assert "| **total** |" in finished.stdout  # and where the time went
    return json.loads(out.read_text())  # type: ignore[no-any-return]  # the results file is JSON


def test_cold_start_reports_every_template_function_against_the_baseline(
    results: dict[str, Any],
) -> None:
    cold = results["coldStart"]
    assert cold["baselineMs"] > 0
    assert {"ApiFunction", "WsSendMessageFunction", "AuthorizerFunction"} <= set(cold["functions"])
    for figures in cold["functions"].values():
        assert set(figures) >= COLD_START_FUNCTION_KEYS
        assert figures["importMs"] > 0
        assert figures["ratio"] == pytest.approx(figures["importMs"] / cold["baselineMs"], abs=0.01)


def test_fanout_counts_requests_for_both_designs_in_every_row(results: dict[str, Any]) -> None:
    rows = results["fanout"]
    assert {(r["members"], r["workspaceConnections"]) for r in rows} == {
        (2, 10),
        (120, 10),
        (2, 40),
        (120, 40),
    }
    for row in rows:
        assert set(row) >= FANOUT_ROW_KEYS
        assert row["delivered"] == row["members"] - 1  # everyone but the sender's connection
        assert row["scanBaselinePosts"] == row["members"] + row["workspaceConnections"]
        assert row["sameForEveryW"] is True


def test_cost_adds_up_its_breakdown(results: dict[str, Any]) -> None:
    cost = results["cost"]
    assert set(cost) >= COST_KEYS
    assert cost["usdPerMillionMessages"] == pytest.approx(sum(cost["breakdown"].values()), abs=0.01)
    assert cost["perMessage"]["apigwMessages"] == 11  # frame in, ack, nine members
    # the stream's consumers (notifier, search forwarder and indexer, events forwarder)
    assert cost["breakdown"]["streamAndIndexing"] > 0
    assert cost["opensearchUsdPerMonth"] > 0  # fixed, outside the per-message total


def test_slack_post_is_timed_against_the_native_post_in_the_same_run(
    results: dict[str, Any],
) -> None:
    row = results["slack"]
    assert set(row) >= SLACK_KEYS
    assert row["postMessageMs"] > 0
    assert row["nativePostMs"] > 0
    assert row["ratio"] == pytest.approx(row["postMessageMs"] / row["nativePostMs"], abs=0.001)
    assert row["pass"] is (row["ratio"] <= row["targetRatio"])


def test_slack_post_costs_one_token_get_item_more_than_the_native_post(
    results: dict[str, Any],
) -> None:
    slack, native = results["slack"]["paths"]["slack"], results["slack"]["paths"]["native"]
    assert slack["requests"] == {**native["requests"], "GetItem": 1}  # the bot token
    assert "GetItem" not in native["requests"]  # the JWT is API Gateway's to check
    assert slack["readUnits"] == native["readUnits"] + 0.5  # eventually consistent, < 4 KB
    assert slack["writeUnits"] == native["writeUnits"]
    assert native["authorizer"] == "CognitoJwt (JWT)"
    assert slack["authorizer"] == "none"
    assert slack["invocations"] == native["invocations"] == 1  # no Lambda authorizer
    assert slack["delivered"] == native["delivered"] == results["slack"]["members"]
    assert slack["partsMs"]["authenticate"] > 0
    assert "authenticate" not in native["partsMs"]


def test_web_weighs_the_page_and_what_it_loads_gzipped(results: dict[str, Any]) -> None:
    row = results["web"]
    assert set(row) >= WEB_KEYS
    assert list(row["files"]) == ["index.html", "style.css", "app.js"]  # the page's order
    for sizes in row["files"].values():
        assert 0 < sizes["gzipBytes"] < sizes["bytes"]
    gzipped = sum(sizes["gzipBytes"] for sizes in row["files"].values())
    assert row["bundleGzipKb"] == pytest.approx(gzipped / 1024, abs=0.05)
    assert row["pass"] is (row["bundleGzipKb"] <= row["targetGzipKb"] == 150)
    assert row["from"] in {"built", "web/dist"}


def test_web_reads_what_the_page_loads_and_refuses_a_stale_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "dist" / "index.html"
    page.parent.mkdir()
    page.write_text(
        '<link rel="stylesheet" href="./a.css"><link rel="icon" href="i.png">'
        '<script src="b.js?v=2"></script><script src="https://cdn.example/c.js"></script><script>'
    )
    assert web.loaded_files(page) == ["index.html", "a.css", "b.js"]
    # No node: web/dist serves only while it is newer than every source.
    monkeypatch.setattr(web, "WEB", tmp_path)
    monkeypatch.setattr(web, "DIST", tmp_path / "dist")
    monkeypatch.setattr(web.shutil, "which", lambda _name: None)
    (tmp_path / "style.css").write_text("body {}")
    earlier = page.stat().st_mtime - 10
    os.utime(tmp_path / "style.css", (earlier, earlier))
    assert web._build(tmp_path / "out") == "web/dist"
    assert (tmp_path / "out" / "index.html").exists()
    later = earlier + 20
    os.utime(tmp_path / "style.css", (later, later))
    with pytest.raises(RuntimeError, match="make web"):
        web._build(tmp_path / "again")


def test_the_retention_sweep_is_timed_against_batch_deletes_of_as_many_keys(
    results: dict[str, Any],
) -> None:
    row = results["retention"]
    assert set(row) >= RETENTION_KEYS
    # Two channels of 100 expired messages (a straddling thread's late reply each), their
    # pins, files (file, reference, share) and the share of the file a kept message keeps.
    assert row["messages"] == 202
    assert row["deleted"] == 202 + 2 * 2 + 10 * 3 + 1
    assert row["tasks"] == 1 + 1 + 2  # the plan, the workspace, a task per channel
    assert row["ratio"] == pytest.approx(row["perS"] / row["baselinePerS"], abs=0.001)
    assert "| items deleted |" in retention.table(row)


def test_the_run_says_where_its_time_went(results: dict[str, Any]) -> None:
    seconds = results["seconds"]
    assert set(seconds) == {"coldStart", "fanout", "cost", "slack", "web", "retention", "total"}
    assert seconds["total"] == pytest.approx(sum(v for k, v in seconds.items() if k != "total"))


def test_a_package_is_the_built_function_and_layer_without_bytecode(tmp_path: Path) -> None:
    target = coldstart.Target("SendFunction", tmp_path / "src", (), "app.handler", {}, "websocket")
    assert coldstart.package_mb(target, tmp_path) is None  # nothing built
    (tmp_path / "SendFunction").mkdir()
    (tmp_path / "SendFunction" / "app.py").write_bytes(b"x" * coldstart.MB)
    assert coldstart.package_mb(target, tmp_path) is None  # the layer is not built
    layer = tmp_path / "ParleyLayer" / "python" / "pkg"
    (layer / "__pycache__").mkdir(parents=True)
    (layer / "mod.py").write_bytes(b"y" * (2 * coldstart.MB))
    (layer / "__pycache__" / "mod.pyc").write_bytes(b"z" * coldstart.MB)
    assert coldstart.package_mb(target, tmp_path) == 3.0
