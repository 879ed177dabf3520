"""Fixtures for the template tests: the parsed template, the SAM CLI, the SAM transform and
one cached build.

`PARLEY_SKIP_SAM_BUILD=1` skips the tests marked `sam_build` (about 20 s on a cold cache,
a few seconds warm); `make test` runs them.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cfn_template import ROOT, Template, load_template

SAM = ROOT / ".tools" / "sam" / "bin" / "sam"
SKIP_BUILD_VARIABLE = "PARLEY_SKIP_SAM_BUILD"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"sam_build: runs `sam build` (skipped when {SKIP_BUILD_VARIABLE}=1)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get(SKIP_BUILD_VARIABLE, "") not in ("", "0"):
        skip = pytest.mark.skip(reason=f"{SKIP_BUILD_VARIABLE} is set")
        for item in items:
            if "sam_build" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def template() -> Template:
    return load_template(ROOT / "template.yaml")


def _python312_bin_dir() -> Path:
    """A directory whose python3.12 has pip: SAM's pip builder needs the Lambda runtime's
    Python on PATH. pyenv's shim only works with the version's own bin directory first."""
    candidates = [
        *(Path(p) for p in [os.environ.get("PARLEY_PYTHON312")] if p),
        *sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"), reverse=True),
        *(Path(p) for p in [shutil.which("python3.12")] if p),
    ]
    for python in candidates:
        probe = subprocess.run(  # noqa: S603 -- a Python interpreter we found, no shell
            [str(python), "-m", "pip", "--version"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return python.parent
    pytest.fail(
        "no python3.12 with pip found (set PARLEY_PYTHON312 to one); sam build needs it",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def sam_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(AWS_DEFAULT_REGION=env.get("AWS_DEFAULT_REGION", "us-east-1"))
    env.update(SAM_CLI_TELEMETRY="0")
    return env


@pytest.fixture(scope="session")
def sam() -> Path:
    if not SAM.exists():
        pytest.fail(f"{SAM.relative_to(ROOT)} is missing: `make test` installs it", pytrace=False)
    return SAM


@pytest.fixture(scope="session")
def sam_transform(sam: Path, sam_env: dict[str, str]) -> Callable[[Path, Path], Path]:
    """Writes a template as the SAM transform makes it, as JSON (sam_transform.py, run in
    the SAM CLI's Python), and returns where."""

    def transform(template: Path, out: Path) -> Path:
        result = subprocess.run(  # noqa: S603 -- the SAM CLI's Python and our script, no shell
            [
                str(sam.parent / "python"),
                str(Path(__file__).parent / "sam_transform.py"),
                str(template),
            ],
            cwd=ROOT,
            env=sam_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-4000:]
        out.write_text(result.stdout)
        return out

    return transform


@pytest.fixture(scope="session")
def transformed(
    sam_transform: Callable[[Path, Path], Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """template.yaml after the SAM transform, as JSON."""
    return sam_transform(ROOT / "template.yaml", tmp_path_factory.mktemp("sam") / "template.json")


@pytest.fixture(scope="session")
def sam_build(
    sam: Path,
    sam_env: dict[str, str],
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """`sam build` of the real template, copied into this session's temporary directory.

    SAM builds into pytest's cache directory, where its cache and its incremental-build
    state (kept beside the build directory) survive between runs: a rerun with unchanged
    requirements takes seconds instead of twenty. A lock keeps two test sessions in the same
    tree from building there at once, and the copy lets each read its own build."""
    assert request.config.cache is not None, "the cache plugin is on unless -p no:cacheprovider"
    work = request.config.cache.mkdir("sam")
    env = dict(sam_env, PATH=f"{_python312_bin_dir()}{os.pathsep}{sam_env.get('PATH', '')}")
    command = [
        str(sam),
        "build",
        "--template-file",
        str(ROOT / "template.yaml"),
        "--build-dir",
        str(work / "build"),
        "--cache-dir",
        str(work / "cache"),
        "--cached",
        "--parallel",
    ]
    copy = tmp_path_factory.mktemp("sam") / "build"
    with (work / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(  # noqa: S603 -- the project's SAM CLI, no shell
            command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=900
        )
        if result.returncode == 0:
            shutil.copytree(work / "build", copy, symlinks=True)
    if result.returncode != 0:
        pytest.fail(
            f"sam build failed ({result.returncode}):\n{result.stdout[-4000:]}"
            f"\n{result.stderr[-4000:]}",
            pytrace=False,
        )
    return copy
