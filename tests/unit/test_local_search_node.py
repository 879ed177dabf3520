"""Whether the local stack gets search: a JDK and Maven, or a clear word that it runs without."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from local.search_node import OpenSearchNode, find_toolchain, search_services


def _executable(directory: Path, name: str) -> Path:
    tool = directory / name
    tool.write_text("#!/bin/sh\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return tool


def test_without_java_or_maven_the_stack_runs_without_search_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _executable(tmp_path, "mvn")  # Maven alone is not enough
    with caplog.at_level(logging.WARNING, logger="local.search_node"):
        assert search_services(environ={"PATH": str(tmp_path)}) == []
    assert "without search" in caplog.text


def test_without_maven_there_is_no_toolchain(tmp_path: Path) -> None:
    _executable(tmp_path, "java")
    assert find_toolchain({"PATH": str(tmp_path)}) is None


def test_java_home_wins_over_path_and_both_tools_make_a_node(tmp_path: Path) -> None:
    home, path = tmp_path / "jdk", tmp_path / "bin"
    (home / "bin").mkdir(parents=True)
    path.mkdir()
    java = _executable(home / "bin", "java")
    _executable(path, "java")
    mvn = _executable(path, "mvn")
    toolchain = find_toolchain({"PATH": str(path), "JAVA_HOME": str(home)})
    assert toolchain is not None
    assert (toolchain.java, toolchain.maven) == (str(java), str(mvn))
    services = search_services(environ={"PATH": str(path), "JAVA_HOME": str(home)}, port=0)
    assert [type(s) for s in services] == [OpenSearchNode]
