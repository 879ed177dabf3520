"""The WebSocket functions' import budget, as Powertools keeps one for its own imports
(tests/performance/test_high_level_imports.py there).

A cold start pays every module a function imports, and the WebSocket functions must stay
lean (their cold start is held to 1.3 times a bare handler's by bench/coldstart.py). Time is
the benchmark's to measure; this test holds what decides it and does not drift with the
machine's load: which packages each function loads, and how many modules, in a fresh
interpreter as a cold start has. A change that pulls pydantic, boto3 or opensearch-py into
one of them fails here before it shows in a benchmark.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What a WebSocket function must never import at cold start, and why.
HEAVY = {
    "pydantic": "120-145 ms of import and model building; the frames are checked by hand",
    "boto3": "about 150 ms; the lean clients speak the wire protocols themselves",
    "opensearchpy": "about 110 ms; only search's functions query the index",
    "requests": "opensearch-py's transport, for search's functions only",
    "aws_xray_sdk": "Tracer's 250 ms; API Gateway and Lambda record their own spans",
}

# Modules each function loads today (Python 3.11/3.12, the locked packages), plus headroom
# of about 10 % for a library's patch release. The authorizer adds PyJWT and cryptography.
BUDGET = {
    "authorizer": 480,
    "ws_connect": 430,
    "ws_disconnect": 430,
    "ws_default": 160,
    "ws_send_message": 440,
    "ws_mark_read": 430,
    "ws_typing": 430,
    "ws_ping": 430,
    "ws_subscribe_presence": 430,
}

_SCRIPT = """
import importlib.util, json, sys
sys.path.insert(0, sys.argv[1])
name = sys.argv[2]
before = set(sys.modules)
spec = importlib.util.spec_from_file_location(name, f"functions/{name}/app.py")
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def imported_by(function: str) -> list[str]:
    """The modules a fresh interpreter loads to import the function's handler."""
    loaded = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-I", "-c", _SCRIPT, str(ROOT / "layers" / "parley"), function],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    modules: list[str] = json.loads(loaded.stdout)
    return modules


@pytest.mark.parametrize("function", sorted(BUDGET))
def test_a_websocket_function_imports_within_its_budget(function: str) -> None:
    modules = imported_by(function)
    heavy = sorted({m.split(".")[0] for m in modules} & set(HEAVY))
    assert not heavy, {package: HEAVY[package] for package in heavy}
    assert len(modules) <= BUDGET[function], (
        f"{function} imports {len(modules)} modules; its budget is {BUDGET[function]}"
    )


def test_every_websocket_function_has_a_budget() -> None:
    websocket_functions = {
        path.parent.name
        for path in (ROOT / "functions").glob("*/app.py")
        if path.parent.name.startswith("ws_")
    }
    assert websocket_functions | {"authorizer"} == set(BUDGET)
