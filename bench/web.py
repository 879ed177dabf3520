"""The web client's weight: the production bundle as the page loads it, gzipped.

- The build: `node build.mjs` (esbuild, minified, what `make web` puts in web/dist) into a
  temporary directory, so that the figure is the sources' as they stand, not a stale
  web/dist's. Without node or web/node_modules (`make web` installs them), web/dist itself
  when it is newer than every source; otherwise the run fails and says so.
- What counts: index.html and what it loads (its `<script src>` and stylesheet `<link
  href>`, read from the built page), each gzipped at level 9 on its own, as a server
  compresses each response. config.json (the host writes it: a few hundred bytes) does not.
- Target: at most 150 KB gzipped in all (issue #22); KB are 1,024 bytes.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

WEB = Path(__file__).resolve().parent.parent / "web"
DIST = WEB / "dist"
TARGET_GZIP_KB = 150.0
KB = 1024
SOURCES = ("src", "index.html", "style.css", "build.mjs", "package-lock.json")


class _Assets(HTMLParser):
    """The local files a page loads: scripts and stylesheets, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            url = found.get("src")
        elif tag == "link" and "stylesheet" in (found.get("rel") or "").split():
            url = found.get("href")
        else:
            return
        if url and "://" not in url and not url.startswith("//"):
            self.files.append(url.split("?")[0].removeprefix("./"))


def loaded_files(page: Path) -> list[str]:
    """index.html first, then what it loads."""
    parser = _Assets()
    parser.feed(page.read_text(encoding="utf-8"))
    return [page.name, *parser.files]


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in SOURCES:
        path = WEB / name
        for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
            if item.is_file():
                newest = max(newest, item.stat().st_mtime)
    return newest


def _build(out: Path) -> str:
    """Builds the bundle into `out`; the answer says where the figures come from."""
    node = shutil.which("node")
    if node and (WEB / "node_modules" / "esbuild").is_dir():
        built = subprocess.run(  # noqa: S603 - node on PATH and the repository's build script
            [node, "build.mjs", str(out)], cwd=WEB, capture_output=True, text=True, check=False
        )
        if built.returncode:
            raise RuntimeError(f"node build.mjs failed: {built.stderr[-2000:]}")
        return "built"
    page = DIST / "index.html"
    if page.exists() and page.stat().st_mtime >= _newest_source_mtime():
        shutil.copytree(DIST, out, dirs_exist_ok=True)
        return "web/dist"
    raise RuntimeError("no node or web/node_modules, and web/dist is older than web/: make web")


def run(level: int = 9) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="parley-bench-web-") as tmp:
        out = Path(tmp) / "dist"
        source = _build(out)
        sizes = {}
        for name in loaded_files(out / "index.html"):
            raw = (out / name).read_bytes()
            sizes[name] = (len(raw), len(gzip.compress(raw, compresslevel=level, mtime=0)))
    total_gzip = round(sum(packed for _, packed in sizes.values()) / KB, 1)
    return {
        "bundleGzipKb": total_gzip,
        "bundleKb": round(sum(raw for raw, _ in sizes.values()) / KB, 1),
        "targetGzipKb": TARGET_GZIP_KB,
        "pass": total_gzip <= TARGET_GZIP_KB,
        "gzipLevel": level,
        "files": {
            name: {
                "bytes": raw,
                "gzipBytes": packed,
                "kb": round(raw / KB, 1),
                "gzipKb": round(packed / KB, 1),
            }
            for name, (raw, packed) in sizes.items()
        },
        "from": source,
    }


def table(result: dict[str, Any]) -> str:
    rows = ["| file | KB | gzip -9 KB |", "| --- | ---: | ---: |"]
    for name, sizes in result["files"].items():
        rows.append(f"| {name} | {sizes['kb']} | {sizes['gzipKb']} |")
    verdict = "target met" if result["pass"] else "**over**"
    rows.append(
        f"| **what the page loads** | {result['bundleKb']} | **{result['bundleGzipKb']}** "
        f"(≤ {result['targetGzipKb']:g}: {verdict}) |"
    )
    return "\n".join(rows)
