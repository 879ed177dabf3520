"""Cold start per function: a fresh interpreter imports the handler module and gets ready to
serve (the table bound, its DynamoDB client made and its credentials found, when the handler
uses the table, and the broadcaster built, when it delivers events, since its imports are
lazy), beside a baseline handler that imports only boto3 and makes one DynamoDB client.

Each run is its own `python -I` process with the function's `CodeUri` and layers first on
`sys.path` and the environment the template gives it, as Lambda's init phase has. Runs of
all functions are interleaved, so that the machine's noise falls on each of them alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local import sam
from local.intrinsics import Resolver, as_string, references
from local.stack import PROJECT_ROOT
from local.template import Template
from local.workers import lambda_environment

BASELINE = "baseline"
# x the baseline: WebSocket functions sit in a user's path on every connect and frame.
TARGETS = {"websocket": 1.3, "http": 2.0}
MB = 1024 * 1024
WARM_PROCESSES = 2  # the machine's cores

# Runs in the child: the clock starts before the handler's import, as Lambda's init does.
_CHILD = """
import importlib, json, sys, time
start = time.perf_counter()
code_dir, layers, module_name, attribute = sys.argv[1], json.loads(sys.argv[2]), *sys.argv[3:5]
fans_out = sys.argv[5] == "1"
sys.path[:0] = [code_dir, *layers]
handler = getattr(importlib.import_module(module_name), attribute)
imported = time.perf_counter()
if "parley.wiring" in sys.modules:
    from parley.wiring import configured
    from parley.adapters.dynamodb.base import client
    from parley.adapters.dynamodb.transport import DynamoDBHttp  # imported by the binding already
    configured()
    dynamodb = client()
    if isinstance(dynamodb, DynamoDBHttp):  # it finds its endpoint and credentials on first use
        dynamodb.endpoint()
    if fans_out:  # what the first invocation builds anyway (its imports are lazy)
        from parley.wiring import broadcaster
        broadcaster()
ready = time.perf_counter()
assert callable(handler)
# VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork and exec.
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"moduleMs": (imported - start) * 1000, "readyMs": (ready - start) * 1000,
                  "peakRssMb": peak_kb / 1024}))
"""

_BASELINE_APP = '''"""The baseline: a handler that imports boto3 and makes one DynamoDB client."""
import boto3

dynamodb = boto3.client("dynamodb")


def lambda_handler(event, context):
    return {"statusCode": 200}
'''


@dataclass(frozen=True)
class Target:
    name: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    handler: str
    environment: dict[str, str]
    kind: str  # "websocket", "http" or "baseline"


def targets(template_path: Path = PROJECT_ROOT / "template.yaml") -> list[Target]:
    """Every function of the template, with its environment resolved as the stack does it."""
    template = Template.load(template_path)
    resolver = Resolver(template, {})
    sam.register_runtime_resources(template, resolver, ())
    kinds = _kinds(template)
    found = []
    for logical_id, spec in sam.functions(template, resolver).items():
        variables = {k: as_string(resolver.resolve(v)) for k, v in spec.environment.items()}
        environment = lambda_environment(spec, variables, _credentials())
        environment.pop("AWS_SAM_LOCAL")  # Lambda does not set it
        kind = kinds.get(logical_id, "event")
        found.append(
            Target(logical_id, spec.code_dir, spec.layer_dirs, spec.handler, environment, kind)
        )
    return found


def _kinds(template: Template) -> dict[str, str]:
    """Which API each function serves: "http" (HttpApi events), "websocket" (a WebSocket
    integration or authorizer points at it), else "event" (streams, queues: no target)."""
    kinds = {}
    for resource in template.of_type("AWS::Serverless::Function"):
        events = (resource.properties.get("Events") or {}).values()
        if any(event.get("Type") == "HttpApi" for event in events):
            kinds[resource.logical_id] = "http"
    for kind, prop in (("Integration", "IntegrationUri"), ("Authorizer", "AuthorizerUri")):
        for resource in template.of_type(f"AWS::ApiGatewayV2::{kind}"):
            for logical_id in references(resource.properties.get(prop)):
                kinds.setdefault(logical_id, "websocket")
    return kinds


def _credentials() -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def baseline_target(directory: Path, like: Target) -> Target:
    (directory / "app.py").write_text(_BASELINE_APP, encoding="utf-8")
    return Target(BASELINE, directory, (), "app.lambda_handler", like.environment, BASELINE)


def fans_out(target: Target) -> bool:
    """Whether the handler delivers events: then "ready" includes the broadcaster."""
    module_file = target.code_dir / (target.handler.rsplit(".", 1)[0].replace(".", "/") + ".py")
    return "broadcaster()" in module_file.read_text(encoding="utf-8")


def one_run(target: Target) -> dict[str, float]:
    module_name, attribute = target.handler.rsplit(".", 1)
    layers = json.dumps([str(p) for p in target.layer_dirs])
    argv = [str(target.code_dir), layers, module_name, attribute, "1" if fans_out(target) else "0"]
    finished = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-I", "-c", _CHILD, *argv],
        cwd=target.code_dir,
        env=target.environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{target.name} failed to start:\n{finished.stderr[-2000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def tree_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(
        p.stat().st_size for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )


def package_mb(target: Target, build_dir: Path) -> float | None:
    """What Lambda unzips for the function: its built code and the built layer (`sam build`,
    which `make bench` runs first); None without a build of both."""
    code, layer = build_dir / target.name, build_dir / "ParleyLayer"
    if not code.is_dir() or not layer.is_dir():
        return None
    return (tree_bytes(code) + tree_bytes(layer)) / MB


def run(
    runs: int = 15, warm: bool = True, build_dir: Path = PROJECT_ROOT / ".aws-sam" / "build"
) -> dict[str, Any]:
    functions = targets()
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as scratch:
        everyone = [baseline_target(Path(scratch), functions[0]), *functions]
        if warm:  # a first run of each fills the bytecode caches; unmeasured, so two at once
            with ThreadPoolExecutor(WARM_PROCESSES) as pool:
                list(pool.map(one_run, everyone))
        samples: dict[str, list[dict[str, float]]] = {t.name: [] for t in everyone}
        for _ in range(runs):
            for target in everyone:
                samples[target.name].append(one_run(target))
    baseline_ms = statistics.median(s["readyMs"] for s in samples[BASELINE])
    result: dict[str, Any] = {
        "baselineMs": round(baseline_ms, 1),
        "baselinePeakRssMb": round(statistics.median(s["peakRssMb"] for s in samples[BASELINE]), 1),
        "runs": runs,
        "functions": {},
    }
    for target in functions:
        ready = statistics.median(s["readyMs"] for s in samples[target.name])
        ratio = ready / baseline_ms
        limit = TARGETS.get(target.kind)
        size = package_mb(target, build_dir)
        result["functions"][target.name] = {
            "importMs": round(ready, 1),
            "moduleImportMs": round(
                statistics.median(s["moduleMs"] for s in samples[target.name]), 1
            ),
            "ratio": round(ratio, 2),
            "target": limit,
            "pass": None if limit is None else ratio <= limit,
            "kind": target.kind,
            "peakRssMb": round(statistics.median(s["peakRssMb"] for s in samples[target.name]), 1),
            "packageMb": None if size is None else round(size, 1),
        }
    return result


def table(result: dict[str, Any]) -> str:
    lines = [
        f"Cold start: median of {result['runs']} fresh interpreters; baseline (boto3 + one "
        f"DynamoDB client) {result['baselineMs']} ms, {result['baselinePeakRssMb']} MB",
        "",
        "| function | API | ready ms | import only ms | x baseline | target | pass "
        "| peak RSS MB | package MB |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for name, f in result["functions"].items():
        size = "n/a" if f["packageMb"] is None else f"{f['packageMb']:.1f}"
        lines.append(
            f"| {name} | {f['kind']} | {f['importMs']:.0f} | {f['moduleImportMs']:.0f} "
            f"| {f['ratio']:.2f} | {_target(f['target'])} | {_verdict(f['pass'])} "
            f"| {f['peakRssMb']:.0f} | {size} |"
        )
    return "\n".join(lines)


def _target(limit: float | None) -> str:
    return "none" if limit is None else f"≤ {limit}"


def _verdict(passed: bool | None) -> str:
    return "n/a" if passed is None else "yes" if passed else "**no**"
